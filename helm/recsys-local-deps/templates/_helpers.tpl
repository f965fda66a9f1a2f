{{/* Labels (and selector) of one dependency: `include "deps.labels" (dict "root" $ "name" "recsys-kafka")`. */}}
{{- define "deps.labels" -}}
{app.kubernetes.io/name: {{ .name }}, app.kubernetes.io/instance: {{ .root.Release.Name }}}
{{- end -}}
