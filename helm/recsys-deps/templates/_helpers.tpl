{{/* Labels (and selector) of one dependency: `include "deps.labels" (dict "root" $ "name" "recsys-kafka")`. */}}
{{- define "deps.labels" -}}
{app.kubernetes.io/name: {{ .name }}, app.kubernetes.io/instance: {{ .root.Release.Name }}}
{{- end -}}

{{/* The `data` volume: a claim per pod when persistence is on (volumeClaimTemplates), else an emptyDir. */}}
{{- define "deps.dataClaim" -}}
{{- if .persistence.enabled }}
  volumeClaimTemplates:
    - metadata: {name: data}
      spec:
        accessModes: [ReadWriteOnce]
        {{- with .persistence.storageClass }}
        storageClassName: {{ . | quote }}
        {{- end }}
        resources: {requests: {storage: {{ .persistence.size | quote }}}}
{{- end }}
{{- end -}}

{{- define "deps.dataEmptyDir" -}}
{{- if not .persistence.enabled }}
        - {name: data, emptyDir: {}}
{{- end }}
{{- end -}}
