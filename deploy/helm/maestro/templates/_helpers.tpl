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

{{/* Where a remote cluster's kubeconfig is mounted (its Secret's key, read-only). */}}
{{- define "maestro.kubeconfigDir" -}}
{{- printf "/etc/maestro/clusters/%s" . -}}
{{- end -}}

{{/* The name of the cluster the chart runs in (a `clusters` entry without kubeconfigSecret), or "". */}}
{{- define "maestro.inCluster" -}}
{{- $k := (.Values.runners | default dict).kubernetes | default dict -}}
{{- $found := list -}}
{{- range $name, $c := ($k.clusters | default dict) -}}
{{- if not ($c | default dict).kubeconfigSecret -}}{{- $found = append $found $name -}}{{- end -}}
{{- end -}}
{{- first $found | default "" -}}
{{- end -}}

{{/* The cluster of tasks whose namespace and class name none: defaultCluster, else the in-cluster one. */}}
{{- define "maestro.defaultCluster" -}}
{{- $k := (.Values.runners | default dict).kubernetes | default dict -}}
{{- $k.defaultCluster | default (include "maestro.inCluster" .) -}}
{{- end -}}

{{/*
The namespaces of the cluster the chart runs in that the Kubernetes runner can put a Job in,
sorted, each once: the chart grants its Role there. Without `clusters`, every mapped namespace.
With them: a namespace pinned to the in-cluster cluster, and a namespace pinned to none when a
task of it can land here (the in-cluster cluster is the default, or a resource class names it).
Namespaces of the other clusters get their RBAC there, from you (docs/server.md).
*/}}
{{- define "maestro.runnerNamespaces" -}}
{{- $k := (.Values.runners | default dict).kubernetes -}}
{{- if $k -}}
{{- $here := include "maestro.inCluster" . -}}
{{- $reachable := or (not $k.clusters) (and $here (eq $here (include "maestro.defaultCluster" .))) -}}
{{- range $class := values ($k.resourceClasses | default dict) -}}
{{- if and $here (eq (($class | default dict).cluster | default "") $here) -}}{{- $reachable = true -}}{{- end -}}
{{- end -}}
{{- $out := list -}}
{{- range $to := values ($k.namespaces | default dict) -}}
{{- if kindIs "map" $to -}}
{{- if and $here (eq ($to.cluster | default "") $here) -}}{{- $out = append $out $to.namespace -}}{{- end -}}
{{- else if $reachable -}}
{{- $out = append $out $to -}}
{{- end -}}
{{- end -}}
{{- $out | uniq | sortAlpha | toJson -}}
{{- else -}}
[]
{{- end -}}
{{- end -}}

{{/*
The runners file the server reads (MAESTRO_RUNNERS_CONFIG): values.runners as given, except that
each cluster's kubeconfigSecret becomes the path its Secret is mounted at, and defaultCluster,
when unset, is the in-cluster cluster.
*/}}
{{- define "maestro.runnersFile" -}}
{{- $runners := deepCopy (.Values.runners | default dict) -}}
{{- $k := $runners.kubernetes -}}
{{- if and $k $k.clusters -}}
{{- $clusters := dict -}}
{{- range $name, $c := $k.clusters -}}
{{- $c = $c | default dict -}}
{{- $entry := dict -}}
{{- if $c.kubeconfigSecret -}}
{{- $_ := set $entry "kubeconfig" (printf "%s/kubeconfig" (include "maestro.kubeconfigDir" $name)) -}}
{{- end -}}
{{- if $c.context -}}{{- $_ := set $entry "context" $c.context -}}{{- end -}}
{{- $_ := set $clusters $name $entry -}}
{{- end -}}
{{- $_ := set $k "clusters" $clusters -}}
{{- $default := include "maestro.defaultCluster" . -}}
{{- if $default -}}{{- $_ := set $k "defaultCluster" $default -}}{{- end -}}
{{- else if $k -}}
{{- $_ := unset $k "clusters" -}}
{{- end -}}
{{- toYaml $runners -}}
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
{{- fail "runners.kubernetes.kubeconfig is set: in the chart the runner uses the pod's service account and the Roles the chart grants; remove it (another cluster is a runners.kubernetes.clusters entry with a kubeconfigSecret)" -}}
{{- end -}}
{{- if and $k $k.clusters -}}
{{- $names := keys $k.clusters | sortAlpha -}}
{{- range $name := $names -}}
{{- if not (regexMatch "^[a-z0-9]([-a-z0-9]{0,50}[a-z0-9])?$" $name) -}}
{{- fail (printf "runners.kubernetes.clusters.%s: a cluster name must be a DNS-1123 label (lower-case letters, digits, -) of at most 52 characters" $name) -}}
{{- end -}}
{{- end -}}
{{- $here := list -}}
{{- range $name := $names -}}
{{- if not ((get $k.clusters $name) | default dict).kubeconfigSecret -}}{{- $here = append $here $name -}}{{- end -}}
{{- end -}}
{{- if gt (len $here) 1 -}}
{{- fail (printf "runners.kubernetes.clusters: %s have no kubeconfigSecret, so each would be the cluster the chart runs in; give all but one a kubeconfigSecret" (join ", " $here)) -}}
{{- end -}}
{{- $default := include "maestro.defaultCluster" $ -}}
{{- if and (not $default) (gt (len $names) 1) -}}
{{- fail (printf "runners.kubernetes.defaultCluster is not set and no cluster is the in-cluster one (an entry without kubeconfigSecret): name the cluster of tasks whose namespace and class name none (one of %s)" (join ", " $names)) -}}
{{- end -}}
{{- if and $default (not (has $default $names)) -}}
{{- fail (printf "runners.kubernetes.defaultCluster is %q, which is not a key of runners.kubernetes.clusters (%s)" $default (join ", " $names)) -}}
{{- end -}}
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
