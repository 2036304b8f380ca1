{{/*
The four services and the port each listens on (their settings' HTTP_PORT defaults).
*/}}
{{- define "fivetype.ports" -}}
measures: 8101
inspections: 8102
scoring: 8103
notifications: 8104
{{- end }}

{{/*
The port a service serves /metrics on, apart from its API: its HTTP port + 1000. Arg: the port.
*/}}
{{- define "fivetype.metricsPort" -}}
{{- add (int .) 1000 }}
{{- end }}

{{- define "fivetype.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 40 | trimSuffix "-" }}
{{- end }}

{{- define "fivetype.fullname" -}}
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

{{/*
The name of one part of the release (a service, "nats", …): <fullname>-<part>, at most 52
characters so StatefulSet revision labels and Job pod names stay within 63.
Args: root, part.
*/}}
{{- define "fivetype.partName" -}}
{{- $base := include "fivetype.fullname" .root | trunc (int (sub 51 (len .part))) | trimSuffix "-" }}
{{- printf "%s-%s" $base .part }}
{{- end }}

{{/*
app.kubernetes.io/name of one part: <chart name>-<part> (fivetype-measures, fivetype-nats).
Args: root, part.
*/}}
{{- define "fivetype.appName" -}}
{{- printf "%s-%s" (include "fivetype.name" .root) .part | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "fivetype.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Selector labels: name and instance only, so they never change across upgrades.
Args: root, part.
*/}}
{{- define "fivetype.selectorLabels" -}}
app.kubernetes.io/name: {{ include "fivetype.appName" . }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end }}

{{/*
Every object's labels. Args: root, part, component.
*/}}
{{- define "fivetype.labels" -}}
{{ include "fivetype.selectorLabels" . }}
app.kubernetes.io/component: {{ .component }}
app.kubernetes.io/part-of: {{ include "fivetype.name" .root }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ include "fivetype.chart" .root }}
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "fivetype.image" -}}
{{- $image := .Values.image }}
{{- if $image.digest }}
{{- printf "%s@%s" $image.repository $image.digest }}
{{- else }}
{{- printf "%s:%s" $image.repository (default .Chart.AppVersion $image.tag) }}
{{- end }}
{{- end }}

{{/*
The effective values of one service: services.<name> laid over serviceDefaults, maps merged
key by key at every depth, anything else (lists included) replaced. Written into the dict
passed as `into` (the template returns nothing): a round trip through YAML would turn large
integers into floats. Args: root, service, into.
*/}}
{{- define "fivetype.serviceValues" -}}
{{- range $key, $value := deepCopy .root.Values.serviceDefaults }}
{{- $_ := set $.into $key $value }}
{{- end }}
{{- include "fivetype.mergeInto" (dict "into" .into "from" (get .root.Values.services .service | default dict)) }}
{{- end }}

{{/*
Lays the map `from` over the map `into`, in place. Unlike sprig's merge functions it keeps a
`false` or 0 from `from`.
*/}}
{{- define "fivetype.mergeInto" -}}
{{- range $key, $value := .from }}
{{- $current := get $.into $key }}
{{- if and (kindIs "map" $value) (kindIs "map" $current) }}
{{- include "fivetype.mergeInto" (dict "into" $current "from" $value) }}
{{- else }}
{{- $_ := set $.into $key $value }}
{{- end }}
{{- end }}
{{- end }}

{{/*
A setting's value as the service reads it: strings as they are, everything else as JSON
(numbers without exponents, true/false, lists such as [7,3,1]).
*/}}
{{- define "fivetype.settingValue" -}}
{{- if kindIs "string" . }}{{ . }}{{ else }}{{ toJson . }}{{ end }}
{{- end }}

{{/*
The bundled NATS client Service name and URL host part.
*/}}
{{- define "fivetype.nats.name" -}}
{{- include "fivetype.partName" (dict "root" . "part" "nats") }}
{{- end }}

{{- define "fivetype.nats.headless" -}}
{{- printf "%s-headless" (include "fivetype.nats.name" .) }}
{{- end }}

{{/*
JetStream replicas of the streams the services provision.
*/}}
{{- define "fivetype.streamReplicas" -}}
{{- if .Values.nats.enabled }}{{ .Values.nats.replicas }}{{ else }}{{ .Values.externalNats.streamReplicas }}{{ end }}
{{- end }}

{{/*
Refuse contradictory NATS choices with a message that says what to do.
*/}}
{{- define "fivetype.validateNats" -}}
{{- $external := .Values.externalNats }}
{{- if .Values.nats.enabled }}
{{- if or $external.url $external.existingSecret }}
{{- fail "nats.enabled is true but externalNats is also set: choose the bundled NATS or an external one" }}
{{- end }}
{{- else }}
{{- if and $external.url $external.existingSecret }}
{{- fail "externalNats: set url or existingSecret, not both" }}
{{- end }}
{{- if not (or $external.url $external.existingSecret) }}
{{- fail "nats.enabled is false: set externalNats.url or externalNats.existingSecret" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The environment that comes from Secrets (the database URL, the token key, NATS URL with
credentials, SMTP credentials), as EnvVar entries. Args: root, service, values (the service's effective values).
*/}}
{{- define "fivetype.secretEnv" -}}
{{- $prefix := printf "FIVETYPE_%s_" (upper .service) }}
{{- $root := .root }}
- name: {{ $prefix }}DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ $root.Values.database.existingSecret }}
      key: {{ get $root.Values.database.urlKeys .service }}
- name: {{ $prefix }}AUTH_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ $root.Values.auth.existingSecret }}
      key: {{ $root.Values.auth.secretKey }}
{{- if and (not $root.Values.nats.enabled) $root.Values.externalNats.existingSecret }}
- name: {{ $prefix }}NATS_URL
  valueFrom:
    secretKeyRef:
      name: {{ $root.Values.externalNats.existingSecret }}
      key: {{ $root.Values.externalNats.urlKey }}
{{- end }}
{{- with .values.smtp }}
{{- if .existingSecret }}
- name: {{ $prefix }}SMTP_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ .existingSecret }}
      key: {{ .usernameKey }}
- name: {{ $prefix }}SMTP_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .existingSecret }}
      key: {{ .passwordKey }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The Secret holding the services' nkey seeds (<service>.nk), if NATS authenticates them.
*/}}
{{- define "fivetype.nkeySecret" -}}
{{- if .Values.nats.enabled }}{{ .Values.nats.auth.existingSecret }}{{ else }}{{ .Values.externalNats.nkeySecret }}{{ end }}
{{- end }}

{{/*
The NATS URL when it is plain configuration (no credentials), else empty.
*/}}
{{- define "fivetype.plainNatsUrl" -}}
{{- if .Values.nats.enabled }}
{{- printf "nats://%s:4222" (include "fivetype.nats.name" .) }}
{{- else }}
{{- .Values.externalNats.url }}
{{- end }}
{{- end }}

{{/*
A topology spread constraint list with each constraint's labelSelector filled in.
Args: constraints, selector (a labels map).
*/}}
{{- define "fivetype.topologySpread" -}}
{{- range .constraints }}
- {{ toYaml (merge (dict "labelSelector" (dict "matchLabels" $.selector)) .) | nindent 2 | trim }}
{{- end }}
{{- end }}

{{/*
A service's non-secret environment: the ConfigMap's data, also given inline to its migration
job (which runs before the ConfigMap exists). Args: root, service, port, values.
*/}}
{{- define "fivetype.configData" -}}
{{- $prefix := printf "FIVETYPE_%s_" (upper .service) }}
{{ $prefix }}HTTP_HOST: "0.0.0.0"
{{ $prefix }}HTTP_PORT: {{ int .port | quote }}
{{ $prefix }}METRICS_PORT: {{ include "fivetype.metricsPort" .port | quote }}
{{ $prefix }}MIGRATE_ON_START: {{ not .root.Values.migrations.enabled | quote }}
{{ $prefix }}STREAM_REPLICAS: {{ include "fivetype.streamReplicas" .root | quote }}
{{ $prefix }}SHUTDOWN_GRACE_SECONDS: {{ toJson .values.shutdownGraceSeconds | quote }}
{{- with include "fivetype.plainNatsUrl" .root }}
{{ $prefix }}NATS_URL: {{ . | quote }}
{{- end }}
{{- range $name, $value := .values.settings }}
{{ $prefix }}{{ $name }}: {{ include "fivetype.settingValue" $value | quote }}
{{- end }}
{{- end }}

{{/*
The ServiceAccount a service's pods run as. Args: root, service.
*/}}
{{- define "fivetype.serviceAccountName" -}}
{{- if .root.Values.serviceAccount.create }}
{{- include "fivetype.partName" (dict "root" .root "part" .service) }}
{{- else }}
{{- .root.Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The label a client pod carries to reach the services' HTTP APIs when
networkPolicy.allowExternal is false.
*/}}
{{- define "fivetype.clientLabel" -}}
{{- printf "%s-client" (include "fivetype.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The app.kubernetes.io/name values of the four services.
*/}}
{{- define "fivetype.serviceAppNames" -}}
{{- range $service, $_ := include "fivetype.ports" $ | fromYaml }}
- {{ include "fivetype.appName" (dict "root" $ "part" $service) }}
{{- end }}
{{- end }}
