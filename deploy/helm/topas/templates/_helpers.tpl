{{/*
Names and labels shared by the templates.
*/}}

{{/* The chart name, or nameOverride. */}}
{{- define "topas.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The object name prefix: fullnameOverride, else the release name when it contains the chart name, else `<release>-<chart>`. */}}
{{- define "topas.fullname" -}}
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

{{/* `topas-0.1.0`, for the helm.sh/chart label. */}}
{{- define "topas.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every object of the release. */}}
{{- define "topas.labels" -}}
helm.sh/chart: {{ include "topas.chart" . }}
{{ include "topas.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* What the server's Service and Deployment select on. */}}
{{- define "topas.selectorLabels" -}}
app.kubernetes.io/name: {{ include "topas.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The server/controller ServiceAccount. */}}
{{- define "topas.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "topas.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The runner ServiceAccount. */}}
{{- define "topas.runnerServiceAccountName" -}}
{{- default (printf "%s-runner" (include "topas.fullname" .)) .Values.runner.serviceAccount.name }}
{{- end }}

{{/* Where runner Pods of API runs and the leader Lease live (`--namespace`). */}}
{{- define "topas.runNamespace" -}}
{{- default .Release.Namespace .Values.kubernetes.namespace }}
{{- end }}

{{/* "true" when RBAC is bound in one namespace only: topas watches TestRuns and Pods there alone. */}}
{{- define "topas.namespaced" -}}
{{- if and .Values.kubernetes.watchNamespace (eq .Values.kubernetes.watchNamespace (include "topas.runNamespace" .)) }}true{{ end }}
{{- end }}

{{/* The server image. */}}
{{- define "topas.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* The runner image: runner.image, else the server's. */}}
{{- define "topas.runnerImage" -}}
{{- $repo := default .Values.image.repository .Values.runner.image.repository }}
{{- $tag := default (default .Chart.AppVersion .Values.image.tag) .Values.runner.image.tag }}
{{- printf "%s:%s" $repo $tag }}
{{- end }}

{{/* The URL runner Pods reach the server at: its Service's DNS name. */}}
{{- define "topas.serverUrl" -}}
{{- printf "http://%s.%s.svc:%v" (include "topas.fullname" .) .Release.Namespace .Values.service.port }}
{{- end }}

{{/* The bundled PostgreSQL is used: enabled and no external database given. */}}
{{- define "topas.bundledPostgresql" -}}
{{- if and .Values.postgresql.enabled (not .Values.database.url) (not .Values.database.existingSecret) }}true{{ end }}
{{- end }}

{{/* The Secret and key holding DATABASE_URL. */}}
{{- define "topas.databaseSecretName" -}}
{{- if .Values.database.existingSecret }}{{ .Values.database.existingSecret }}{{ else if .Values.database.url }}{{ include "topas.fullname" . }}-database{{ else }}{{ include "topas.fullname" . }}-postgresql{{ end }}
{{- end }}
{{- define "topas.databaseSecretKey" -}}
{{- if .Values.database.existingSecret }}{{ .Values.database.existingSecretKey }}{{ else }}DATABASE_URL{{ end }}
{{- end }}

{{/* The Secret and key holding the admin token. */}}
{{- define "topas.adminTokenSecretName" -}}
{{- default (printf "%s-admin-token" (include "topas.fullname" .)) .Values.auth.existingSecret }}
{{- end }}
{{- define "topas.adminTokenSecretKey" -}}
{{- if .Values.auth.existingSecret }}{{ .Values.auth.existingSecretKey }}{{ else }}admin-token{{ end }}
{{- end }}

{{/*
A value kept across upgrades: the named key of an existing Secret (decoded), else a new random one.
Call with (dict "ctx" $ "secret" NAME "key" KEY "length" N).
*/}}
{{- define "topas.keptRandom" -}}
{{- $existing := lookup "v1" "Secret" .ctx.Release.Namespace .secret }}
{{- if and $existing $existing.data (hasKey $existing.data .key) }}
{{- index $existing.data .key | b64dec }}
{{- else }}
{{- randAlphaNum (int .length) }}
{{- end }}
{{- end }}

{{/* Names the chart cannot render with: no database, or a ServiceMonitor without a token. */}}
{{- define "topas.validate" -}}
{{- if not (or .Values.database.url .Values.database.existingSecret .Values.postgresql.enabled) }}
{{- fail "topas needs PostgreSQL: set database.url, database.existingSecret, or postgresql.enabled=true (bundled, for trials)" }}
{{- end }}
{{- if and .Values.metrics.serviceMonitor.enabled (not .Values.metrics.serviceMonitor.tokenSecret.name) }}
{{- fail "metrics.serviceMonitor.enabled needs metrics.serviceMonitor.tokenSecret.name: /metrics needs a viewer token (topas token create --role viewer --name prometheus), in a Secret Prometheus can read" }}
{{- end }}
{{- if and (not .Values.leaderElection.enabled) (gt (int .Values.replicaCount) 1) }}
{{- fail "leaderElection.enabled=false needs replicaCount: 1 (two leaders would both reconcile and dispatch)" }}
{{- end }}
{{- end }}
