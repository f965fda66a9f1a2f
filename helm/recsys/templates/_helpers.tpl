{{/* Chart name, truncated to the 63 characters a label allows. */}}
{{- define "recsys.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Fully qualified release name. */}}
{{- define "recsys.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Labels on every object. */}}
{{- define "recsys.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "recsys.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Selector labels of one component: include with (dict "root" $ "component" "gateway" "track" "stable"). */}}
{{- define "recsys.selectorLabels" -}}
app.kubernetes.io/name: {{ include "recsys.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- with .track }}
recsys.dev/track: {{ . }}
{{- end }}
{{- end -}}

{{/* The image reference. */}}
{{- define "recsys.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{/* RECSYS_DATABASE_URL from the Secret or the plain value; with database.tls.caSecret, libpq's
PGSSLMODE and PGSSLROOTCERT (TLS required, the server's name checked against the mounted CA). */}}
{{- define "recsys.databaseEnv" -}}
- name: RECSYS_DATABASE_URL
{{- if .Values.database.existingSecret }}
  valueFrom:
    secretKeyRef: {name: {{ .Values.database.existingSecret }}, key: url}
{{- else }}
  value: {{ .Values.database.url | quote }}
{{- end }}
{{- if .Values.database.tls.caSecret }}
- {name: PGSSLMODE, value: verify-full}
- {name: PGSSLROOTCERT, value: /etc/recsys/database-ca/ca.crt}
{{- end }}
{{- end -}}

{{/* TLS to Kafka for a container that sets RECSYS_KAFKA_BOOTSTRAP (events/kafka_tls.py): the
brokers' CA, and a client certificate where the brokers require one. */}}
{{- define "recsys.kafkaTlsEnv" -}}
{{- if .Values.kafka.tls.caSecret }}
- {name: RECSYS_KAFKA_TLS_CA, value: /etc/recsys/kafka-ca/ca.crt}
{{- end }}
{{- if .Values.kafka.tls.clientSecret }}
- {name: RECSYS_KAFKA_TLS_CERT, value: /etc/recsys/kafka-client/tls.crt}
- {name: RECSYS_KAFKA_TLS_KEY, value: /etc/recsys/kafka-client/tls.key}
{{- end }}
{{- end -}}

{{- define "recsys.kafkaTlsVolumes" -}}
{{- with .Values.kafka.tls.caSecret }}
- name: kafka-ca
  secret: {secretName: {{ . }}, items: [{key: ca.crt, path: ca.crt}]}
{{- end }}
{{- with .Values.kafka.tls.clientSecret }}
- name: kafka-client
  secret: {secretName: {{ . }}, items: [{key: tls.crt, path: tls.crt}, {key: tls.key, path: tls.key}]}
{{- end }}
{{- end -}}

{{- define "recsys.kafkaTlsMounts" -}}
{{- if .Values.kafka.tls.caSecret }}
- {name: kafka-ca, mountPath: /etc/recsys/kafka-ca, readOnly: true}
{{- end }}
{{- if .Values.kafka.tls.clientSecret }}
- {name: kafka-client, mountPath: /etc/recsys/kafka-client, readOnly: true}
{{- end }}
{{- end -}}

{{/* The database's CA (only ca.crt of the Secret) for the pods that connect to it. */}}
{{- define "recsys.databaseCaVolume" -}}
{{- with .Values.database.tls.caSecret -}}
- name: database-ca
  secret: {secretName: {{ . }}, items: [{key: ca.crt, path: ca.crt}]}
{{- end -}}
{{- end -}}

{{- define "recsys.databaseCaMount" -}}
{{- if .Values.database.tls.caSecret -}}
- {name: database-ca, mountPath: /etc/recsys/database-ca, readOnly: true}
{{- end -}}
{{- end -}}

{{/* Volumes every pod mounts: the artifacts, a writable /tmp (the root filesystem is read-only),
and with tls.enabled the certificate Secret. */}}
{{- define "recsys.volumes" -}}
- name: artifacts
  persistentVolumeClaim: {claimName: {{ .Values.artifacts.claimName }}, readOnly: {{ .readOnly | default false }}}
- name: tmp
  emptyDir: {}
{{ include "recsys.tlsVolume" . }}
{{- end -}}

{{- define "recsys.volumeMounts" -}}
- {name: artifacts, mountPath: {{ .Values.artifacts.mountPath }}}
- {name: tmp, mountPath: /tmp}
{{ include "recsys.tlsMount" . }}
{{- end -}}

{{/* The Secret with tls.crt, tls.key and ca.crt: the user's (e.g. cert-manager's) or the chart's own. */}}
{{- define "recsys.tlsSecret" -}}
{{ .Values.tls.existingSecret | default (printf "%s-tls" (include "recsys.fullname" .)) }}
{{- end -}}

{{- define "recsys.authSecret" -}}
{{ .Values.auth.existingSecret | default (printf "%s-auth" (include "recsys.fullname" .)) }}
{{- end -}}

{{- define "recsys.tlsVolume" -}}
{{- if .Values.tls.enabled -}}
- name: tls
  secret: {secretName: {{ include "recsys.tlsSecret" . }}}
{{- end -}}
{{- end -}}

{{- define "recsys.tlsMount" -}}
{{- if .Values.tls.enabled -}}
- {name: tls, mountPath: /etc/recsys/tls, readOnly: true}
{{- end -}}
{{- end -}}

{{/* RECSYS_TLS_DIR, RECSYS_MTLS and the bearer tokens for a serving container (core/security.py). */}}
{{- define "recsys.securityEnv" -}}
{{- if .Values.tls.enabled }}
- {name: RECSYS_TLS_DIR, value: /etc/recsys/tls}
- {name: RECSYS_MTLS, value: {{ ternary "on" "off" .Values.tls.mutual | quote }}}
{{- end }}
{{- if .Values.auth.enabled }}
- name: RECSYS_AUTH_TOKENS
  valueFrom:
    secretKeyRef: {name: {{ include "recsys.authSecret" . }}, key: tokens}
- {name: RECSYS_AUTH_READS, value: {{ ternary "token" "open" .Values.auth.protectReads | quote }}}
{{- end }}
{{- end -}}

{{/* How a serving process stops (services/common/drain.py), and the pod's matching
terminationGracePeriodSeconds: the longest drain (every connection past its maximum age, which gRPC
jitters by up to 10%, plus its 5 s grace and 1 s), the grace for calls in flight, and 5 s to spare. */}}
{{- define "recsys.shutdownEnv" -}}
- {name: RECSYS_DRAIN_SECONDS, value: {{ .Values.shutdown.drainSeconds | quote }}}
- {name: RECSYS_MAX_CONNECTION_AGE_SECONDS, value: {{ .Values.shutdown.maxConnectionAgeSeconds | quote }}}
- {name: RECSYS_GRACE_SECONDS, value: {{ .Values.shutdown.graceSeconds | quote }}}
{{- end -}}

{{- define "recsys.terminationGrace" -}}
{{- $shutdown := .Values.shutdown -}}
{{- $drain := max $shutdown.drainSeconds (add (div (add (mul $shutdown.maxConnectionAgeSeconds 11) 9) 10) 6) -}}
{{- add $drain $shutdown.graceSeconds 5 -}}
{{- end -}}

{{/* HTTP or HTTPS, for probes of an HTTP port. */}}
{{- define "recsys.httpScheme" -}}
{{ ternary "HTTPS" "HTTP" .Values.tls.enabled }}
{{- end -}}

{{/* gRPC health probes (Kubernetes' built-in gRPC probe against grpc.health.v1): ready once the
model is loaded (""), alive while the process answers ("liveness"), so a canary-track pod waiting
for a version is kept out of the Service without being restarted. The kubelet's gRPC probe cannot
speak TLS: with tls.enabled the same two states come from /readyz and /livez on the metrics port
(HTTPS; the kubelet does not verify a probe's certificate). */}}
{{- define "recsys.grpcProbes" -}}
{{- if .root.Values.tls.enabled -}}
startupProbe:
  httpGet: {path: /livez, port: metrics, scheme: HTTPS}
  periodSeconds: 5
  failureThreshold: 24
readinessProbe:
  httpGet: {path: /readyz, port: metrics, scheme: HTTPS}
  periodSeconds: 5
livenessProbe:
  httpGet: {path: /livez, port: metrics, scheme: HTTPS}
  periodSeconds: 10
  failureThreshold: 3
{{- else -}}
startupProbe:
  grpc: {port: {{ .port }}, service: liveness}
  periodSeconds: 5
  failureThreshold: 24
readinessProbe:
  grpc: {port: {{ .port }}}
  periodSeconds: 5
livenessProbe:
  grpc: {port: {{ .port }}, service: liveness}
  periodSeconds: 10
  failureThreshold: 3
{{- end -}}
{{- end -}}

{{/* The operator's split ConfigMap name for the served model. */}}
{{- define "recsys.splitConfigMap" -}}
{{ .Values.artifacts.model }}-traffic-split
{{- end -}}

{{/* A NetworkPolicy ingress rule for scrapes (and probes' ports): include with (dict "ports" (list ...) "from" peers); no peers: any source, these ports only. */}}
{{- define "recsys.metricsIngress" -}}
- ports:
    {{- range .ports }}
    - {port: {{ . }}, protocol: TCP}
    {{- end }}
  {{- with .from }}
  from: {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end -}}
