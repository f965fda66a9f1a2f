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

{{/* RECSYS_DATABASE_URL from the Secret or the plain value. */}}
{{- define "recsys.databaseEnv" -}}
- name: RECSYS_DATABASE_URL
{{- if .Values.database.existingSecret }}
  valueFrom:
    secretKeyRef: {name: {{ .Values.database.existingSecret }}, key: url}
{{- else }}
  value: {{ .Values.database.url | quote }}
{{- end }}
{{- end -}}

{{/* Volumes every pod mounts: the artifacts, and a writable /tmp (the root filesystem is read-only). */}}
{{- define "recsys.volumes" -}}
- name: artifacts
  persistentVolumeClaim: {claimName: {{ .Values.artifacts.claimName }}, readOnly: {{ .readOnly | default false }}}
- name: tmp
  emptyDir: {}
{{- end -}}

{{- define "recsys.volumeMounts" -}}
- {name: artifacts, mountPath: {{ .Values.artifacts.mountPath }}}
- {name: tmp, mountPath: /tmp}
{{- end -}}

{{/* gRPC health probes (Kubernetes' built-in gRPC probe against grpc.health.v1): ready once the
model is loaded (""), alive while the process answers ("liveness"), so a canary-track pod waiting
for a version is kept out of the Service without being restarted. */}}
{{- define "recsys.grpcProbes" -}}
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
