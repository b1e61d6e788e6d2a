{{/* Names, labels, images and the pieces every pod shares. */}}

{{- define "ocrp.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "ocrp.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "ocrp.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every object; call with (dict "root" $ "component" "api"). */}}
{{- define "ocrp.labels" -}}
helm.sh/chart: {{ include "ocrp.chart" .root }}
{{ include "ocrp.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: ocrp
{{- end }}

{{- define "ocrp.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ocrp.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* An image reference; call with (dict "root" $ "key" "api"). */}}
{{- define "ocrp.image" -}}
{{- $image := index .root.Values.images .key | required (printf "images.%s is not defined" .key) }}
{{- printf "%s%s:%s" .root.Values.images.registry $image.repository (default .root.Chart.AppVersion $image.tag) }}
{{- end }}

{{- define "ocrp.configName" -}}
{{ include "ocrp.fullname" . }}-config
{{- end }}

{{- define "ocrp.secretName" -}}
{{- default (printf "%s-secrets" (include "ocrp.fullname" .)) .Values.secrets.existingSecret }}
{{- end }}

{{/* Settings every ocrp container loads. */}}
{{- define "ocrp.envFrom" -}}
- configMapRef:
    name: {{ include "ocrp.configName" . }}
- secretRef:
    name: {{ include "ocrp.secretName" . }}
{{- end }}

{{/* Pod template annotations that roll the pods when the settings change. */}}
{{- define "ocrp.checksums" -}}
checksum/config: {{ include (print .Template.BasePath "/config.yaml") . | sha256sum }}
{{- if not .Values.secrets.existingSecret }}
checksum/secrets: {{ include (print .Template.BasePath "/secrets.yaml") . | sha256sum }}
{{- end }}
{{- end }}

{{/* Pod-level fields shared by every ocrp pod. */}}
{{- define "ocrp.podCommon" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.serviceAccountName }}
serviceAccountName: {{ . }}
{{- end }}
automountServiceAccountToken: false
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- end }}

{{/* Scheduling fields; call with a map holding nodeSelector, tolerations, affinity. */}}
{{- define "ocrp.scheduling" -}}
{{- with .nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* The worker's readiness (and optional liveness) probe: its Celery node answers a ping. */}}
{{- define "ocrp.workerPing" -}}
exec:
  command:
    - sh
    - -c
    - celery -A worker.app:app inspect ping --timeout 10 --destination "{{ range $i, $node := .nodes }}{{ if $i }},{{ end }}{{ $node }}@$(hostname){{ end }}"
{{- end }}
