{{/* Names, labels and the pieces every process shares. */}}

{{- define "careledger.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "careledger.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "careledger.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "careledger.selectorLabels" -}}
app.kubernetes.io/name: {{ include "careledger.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "careledger.labels" -}}
helm.sh/chart: {{ include "careledger.chart" . }}
{{ include "careledger.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: careledger
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Labels of one component: (dict "root" $ "component" "ledger-worker") */}}
{{- define "careledger.componentLabels" -}}
{{ include "careledger.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "careledger.componentSelector" -}}
{{ include "careledger.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "careledger.serviceAccountName" -}}
{{- default (include "careledger.fullname" .) .Values.serviceAccount.name -}}
{{- end -}}

{{- define "careledger.hooksServiceAccountName" -}}
{{- printf "%s-hooks" (include "careledger.serviceAccountName" .) | trunc 63 -}}
{{- end -}}

{{/* The image of a service: (dict "root" $ "service" "ledger") */}}
{{- define "careledger.image" -}}
{{- $img := index .root.Values .service "image" -}}
{{- $repo := $img.repository -}}
{{- if .root.Values.image.registry -}}{{- $repo = printf "%s/%s" (trimSuffix "/" .root.Values.image.registry) $img.repository -}}{{- end -}}
{{- $ref := printf "%s:%s" $repo (default .root.Chart.AppVersion $img.tag) -}}
{{- if $img.digest -}}{{- $ref = printf "%s@%s" $ref $img.digest -}}{{- end -}}
{{- $ref -}}
{{- end -}}

{{- define "careledger.envPrefix" -}}
{{- upper . -}}
{{- end -}}

{{/*
The services of the release, in the order their objects are rendered. Adding a service: its name here,
its block in values.yaml (image, database, kafkaUser, healthPort, groupId, ..., and a block per process
kind it runs) and its entry in values.schema.json (docs/operations.md, "Adding a service").
*/}}
{{- define "careledger.serviceNames" -}}
{{- list "ledger" "allocation" "payments" "reporting" | toJson -}}
{{- end -}}

{{/*
The process kinds a service may run, in rendering order, and what each is (a service runs the kinds it
has a values block for). The port is the one the process really serves (the services' entrypoints):
a worker serves its service's healthPort, a relay healthPort + 1, the payments timer healthPort + 2,
the views their faust web port (views.port), an HTTP API its api.port.
  autoscale: an HPA when autoscaling.enabled; partitionBound: a consumer group member, so its replicas
  are capped by kafka.partitions (an API's maxReplicas must be given instead);
  postgres / kafka: what it connects to (egress, credentials, readiness).
*/}}
{{- define "careledger.processKinds" -}}
worker: {portName: health, portOffset: 0, autoscale: true, partitionBound: true, postgres: true, kafka: true}
relay: {portName: health, portOffset: 1, autoscale: false, partitionBound: false, postgres: true, kafka: true}
timer: {portName: health, portOffset: 2, autoscale: false, partitionBound: false, postgres: true, kafka: false}
views: {portName: http, autoscale: true, partitionBound: true, postgres: false, kafka: true}
api: {portName: http, autoscale: true, partitionBound: false, postgres: true, kafka: false}
{{- end -}}

{{/*
The long-running processes, one Deployment each: for every service, every kind of careledger.processKinds
it has a block for. Fields: service, kind, port, portName, autoscale, partitionBound, postgres, kafka.
*/}}
{{- define "careledger.processes" -}}
{{- $kinds := include "careledger.processKinds" . | fromYaml }}
{{- range $service := include "careledger.serviceNames" . | fromJsonArray }}
{{- $v := index $.Values $service }}
{{- range $kind := list "worker" "relay" "timer" "views" "api" }}
{{- if hasKey $v $kind }}
{{- $k := index $kinds $kind }}
{{ $service }}-{{ $kind }}:
  service: {{ $service }}
  kind: {{ $kind }}
  port: {{ if hasKey $k "portOffset" }}{{ add $v.healthPort $k.portOffset }}{{ else }}{{ index $v $kind "port" }}{{ end }}
  portName: {{ $k.portName }}
  autoscale: {{ $k.autoscale }}
  partitionBound: {{ $k.partitionBound }}
  postgres: {{ $k.postgres }}
  kafka: {{ $k.kafka }}
{{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/*
The replica ceiling of an autoscaled process: its maxReplicas, or kafka.partitions when unset. A consumer
group member (partitionBound) may not exceed kafka.partitions: more members than partitions would sit
idle. An HTTP API is bound by nothing but its own maxReplicas, which must then be given.
(dict "root" $ "name" "ledger-worker" "values" <process values> "bound" <partitionBound>)
*/}}
{{- define "careledger.maxReplicas" -}}
{{- $partitions := int .root.Values.kafka.partitions -}}
{{- $max := $partitions -}}
{{- if not (kindIs "invalid" .values.autoscaling.maxReplicas) -}}
{{- $max = int .values.autoscaling.maxReplicas -}}
{{- else if not .bound -}}
{{- fail (printf "%s: set autoscaling.maxReplicas (an HTTP API is not capped by partitions; size it by PostgreSQL connections)" .name) -}}
{{- end -}}
{{- if and .bound (gt $max $partitions) -}}
{{- fail (printf "%s: autoscaling.maxReplicas %d exceeds kafka.partitions %d (extra members of a consumer group sit idle)" .name $max $partitions) -}}
{{- end -}}
{{- if gt (int .values.autoscaling.minReplicas) $max -}}
{{- fail (printf "%s: autoscaling.minReplicas %d exceeds maxReplicas %d" .name (int .values.autoscaling.minReplicas) $max) -}}
{{- end -}}
{{- $max -}}
{{- end -}}

{{/* Volumes every pod gets: a writable /tmp (the root filesystem is read-only) and the CA bundles. */}}
{{- define "careledger.volumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- if and (include "careledger.kafkaUsesTls" .) .Values.kafka.tls.caSecret.name }}
- name: kafka-ca
  secret:
    secretName: {{ .Values.kafka.tls.caSecret.name }}
    items:
      - key: {{ .Values.kafka.tls.caSecret.key }}
        path: {{ .Values.kafka.tls.caSecret.key }}
{{- end }}
{{- if and (include "careledger.kafkaUsesTls" .) .Values.kafka.tls.clientSecret }}
- name: kafka-client
  secret:
    secretName: {{ .Values.kafka.tls.clientSecret }}
    items:
      - key: tls.crt
        path: tls.crt
      - key: tls.key
        path: tls.key
{{- end }}
{{- if .Values.postgres.caSecret.name }}
- name: postgres-ca
  secret:
    secretName: {{ .Values.postgres.caSecret.name }}
    items:
      - key: {{ .Values.postgres.caSecret.key }}
        path: {{ .Values.postgres.caSecret.key }}
{{- end }}
{{- end -}}

{{- define "careledger.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if and (include "careledger.kafkaUsesTls" .) .Values.kafka.tls.caSecret.name }}
- name: kafka-ca
  mountPath: /etc/careledger/kafka-ca
  readOnly: true
{{- end }}
{{- if and (include "careledger.kafkaUsesTls" .) .Values.kafka.tls.clientSecret }}
- name: kafka-client
  mountPath: /etc/careledger/kafka-client
  readOnly: true
{{- end }}
{{- if .Values.postgres.caSecret.name }}
- name: postgres-ca
  mountPath: /etc/careledger/postgres
  readOnly: true
{{- end }}
{{- end -}}

{{- define "careledger.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.security.runAsUser }}
runAsGroup: {{ .Values.security.runAsGroup }}
fsGroup: {{ .Values.security.fsGroup }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "careledger.containerSecurityContext" -}}
runAsNonRoot: true
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
privileged: false
capabilities:
  drop: ["ALL"]
{{- end -}}

{{- define "careledger.configChecksum" -}}
{{- include (print .Template.BasePath "/configmap.yaml") . | sha256sum -}}
{{- end -}}

{{/* Egress rules to DNS, Kafka and optionally PostgreSQL: (dict "np" .Values.networkPolicy "kafka" true "postgres" true) */}}
{{- define "careledger.egressRules" -}}
- ports:
    {{- range .np.dns.ports }}
    - port: {{ . }}
      protocol: UDP
    - port: {{ . }}
      protocol: TCP
    {{- end }}
  {{- with .np.dns.to }}
  to:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- if .kafka }}
- ports:
    {{- range .np.kafka.ports }}
    - port: {{ . }}
      protocol: TCP
    {{- end }}
  {{- with .np.kafka.to }}
  to:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
{{- if .postgres }}
- ports:
    {{- range .np.postgres.ports }}
    - port: {{ . }}
      protocol: TCP
    {{- end }}
  {{- with .np.postgres.to }}
  to:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
{{- end -}}

{{/* Annotations of a pre-install/pre-upgrade hook: (dict "weight" "-10") */}}
{{- define "careledger.hookAnnotations" -}}
helm.sh/hook: pre-install,pre-upgrade
helm.sh/hook-weight: {{ .weight | quote }}
helm.sh/hook-delete-policy: before-hook-creation
{{- end -}}
