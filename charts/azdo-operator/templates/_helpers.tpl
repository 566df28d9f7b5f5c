{{/* The chart name (nameOverride). */}}
{{- define "azdo-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The full name of every object: fullnameOverride, the release name when it contains the
chart name, or <release>-<chart>. */}}
{{- define "azdo-operator.fullname" -}}
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

{{/* Selector labels: stable for the life of the release. */}}
{{- define "azdo-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "azdo-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels of every object. */}}
{{- define "azdo-operator.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "azdo-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: azdo-operator
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* The operator's ServiceAccount name. */}}
{{- define "azdo-operator.serviceAccountName" -}}
{{- default (include "azdo-operator.fullname" .) .Values.serviceAccount.name }}
{{- end }}

{{/* The leader election Lease name. */}}
{{- define "azdo-operator.leaseName" -}}
{{- default (printf "%s-leader" (include "azdo-operator.fullname" .)) .Values.leaderElection.leaseName }}
{{- end }}

{{/* The image reference: repository@digest or repository:tag. */}}
{{- define "azdo-operator.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* The single organization's object name: organization.name, or the URL's last segment. */}}
{{- define "azdo-operator.organizationName" -}}
{{- if .Values.organization.name }}
{{- .Values.organization.name }}
{{- else }}
{{- .Values.organization.url | trimSuffix "/" | splitList "/" | last | lower }}
{{- end }}
{{- end }}

{{/* The extra CA bundle: "configMap", "secret" or "" (and fails when both are set). */}}
{{- define "azdo-operator.extraCASource" -}}
{{- $cm := .Values.extraCA.configMap.name }}
{{- $secret := .Values.extraCA.secret.name }}
{{- if and $cm $secret }}
{{- fail "extraCA: set configMap.name or secret.name, not both" }}
{{- else if $cm }}configMap
{{- else if $secret }}secret
{{- end }}
{{- end }}

{{/* Checks of combinations the schema cannot express; renders nothing. */}}
{{- define "azdo-operator.validate" -}}
{{- if and (gt (int .Values.replicaCount) 1) (not .Values.leaderElection.enabled) }}
{{- fail "replicaCount > 1 needs leaderElection.enabled: replicas without a leader would all reconcile" }}
{{- end }}
{{- if and (not .Values.serviceAccount.create) (not .Values.serviceAccount.name) }}
{{- fail "serviceAccount.create=false needs serviceAccount.name" }}
{{- end }}
{{- if and (eq .Values.rbac.secrets.scope "namespaces") (empty .Values.rbac.secrets.namespaces) }}
{{- fail "rbac.secrets.scope=namespaces needs rbac.secrets.namespaces" }}
{{- end }}
{{- if and .Values.workloadIdentity.enabled (eq .Values.workloadIdentity.injection "projected") }}
{{- if not (and .Values.workloadIdentity.clientId .Values.workloadIdentity.tenantId) }}
{{- fail "workloadIdentity.injection=projected needs workloadIdentity.clientId and workloadIdentity.tenantId" }}
{{- end }}
{{- end }}
{{- $_ := include "azdo-operator.extraCASource" . }}
{{- end }}

{{/* Bind ClusterRole `role` to the operator: cluster-wide when `namespaces` is empty, else with
one RoleBinding per namespace. Arguments: dict "context" . "role" NAME "namespaces" LIST. */}}
{{- define "azdo-operator.binding" -}}
{{- $ctx := .context }}
{{- if empty .namespaces }}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: {{ .role }}
  labels:
    {{- include "azdo-operator.labels" $ctx | nindent 4 }}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: {{ .role }}
subjects:
  - kind: ServiceAccount
    name: {{ include "azdo-operator.serviceAccountName" $ctx }}
    namespace: {{ $ctx.Release.Namespace }}
{{- else }}
{{- range $namespace := .namespaces }}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: {{ $.role }}
  namespace: {{ $namespace }}
  labels:
    {{- include "azdo-operator.labels" $ctx | nindent 4 }}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: {{ $.role }}
subjects:
  - kind: ServiceAccount
    name: {{ include "azdo-operator.serviceAccountName" $ctx }}
    namespace: {{ $ctx.Release.Namespace }}
{{- end }}
{{- end }}
{{- end }}

{{/* AZDO_METRICS_ADDR: bindAddress:port, with IPv6 addresses in brackets. */}}
{{- define "azdo-operator.metricsAddr" -}}
{{- $address := .Values.metrics.bindAddress }}
{{- if contains ":" $address }}
{{- printf "[%s]:%v" $address .Values.metrics.port }}
{{- else }}
{{- printf "%s:%v" $address .Values.metrics.port }}
{{- end }}
{{- end }}
