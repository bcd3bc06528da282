{{/* Names and labels shared by every template. */}}

{{- define "maestro.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "maestro.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "maestro.selectorLabels" -}}
app.kubernetes.io/name: {{ include "maestro.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* managed-by is Helm, never summit-maestro: deploy/kubernetes/task-egress-deny.yaml selects
     task pods by that label and must not cut the server off. */}}
{{- define "maestro.labels" -}}
{{ include "maestro.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "maestro.serviceAccountName" -}}
{{- default (include "maestro.fullname" .) .Values.serviceAccount.name -}}
{{- end -}}

{{/* The namespaces the Kubernetes runner maps manifest namespaces to, sorted, each once. */}}
{{- define "maestro.runnerNamespaces" -}}
{{- $k := (.Values.runners | default dict).kubernetes -}}
{{- if $k -}}
{{- values ($k.namespaces | default dict) | uniq | sortAlpha | toJson -}}
{{- else -}}
[]
{{- end -}}
{{- end -}}

{{/* Refuses values that cannot work, at render time, naming the value. */}}
{{- define "maestro.validate" -}}
{{- if and (gt (int .Values.replicaCount) 1) (not .Values.database.existingSecret) -}}
{{- fail (printf "replicaCount is %d but database.existingSecret is not set: replicas share the work through PostgreSQL; a SQLite file cannot be shared between pods (set database.existingSecret to a Secret holding the postgres:// URL, or replicaCount=1)" (int .Values.replicaCount)) -}}
{{- end -}}
{{- if and (gt (int .Values.replicaCount) 1) .Values.persistence.existingClaim -}}
{{- fail "persistence.existingClaim is set with replicaCount > 1: pods would share one data directory; use PostgreSQL (database.existingSecret) and no claim" -}}
{{- end -}}
{{- $k := (.Values.runners | default dict).kubernetes -}}
{{- if and $k $k.kubeconfig -}}
{{- fail "runners.kubernetes.kubeconfig is set: in the chart the runner uses the pod's service account and the Roles the chart grants; remove it" -}}
{{- end -}}
{{- end -}}

{{/* The restricted Pod Security profile, with the values' overrides merged over it. */}}
{{- define "maestro.podSecurityContext" -}}
{{- $base := dict "runAsNonRoot" true "runAsUser" 1000 "runAsGroup" 1000 "fsGroup" 1000 "seccompProfile" (dict "type" "RuntimeDefault") -}}
{{- toYaml (mergeOverwrite $base (deepCopy (.Values.podSecurityContext | default dict))) -}}
{{- end -}}

{{- define "maestro.securityContext" -}}
{{- $base := dict "allowPrivilegeEscalation" false "readOnlyRootFilesystem" true "runAsNonRoot" true "capabilities" (dict "drop" (list "ALL")) "seccompProfile" (dict "type" "RuntimeDefault") -}}
{{- toYaml (mergeOverwrite $base (deepCopy (.Values.securityContext | default dict))) -}}
{{- end -}}
