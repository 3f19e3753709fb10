{{/* Kafka TLS/SASL for every Kafka client: what careruntime.kafka_security reads (docs/operations.md). */}}

{{/* The prefix of the Kafka security variables every process reads (careruntime.kafka_security). */}}
{{- define "careledger.kafkaEnvPrefix" -}}CARELEDGER_KAFKA_{{- end -}}

{{- define "careledger.kafkaUsesSasl" -}}
{{- if hasPrefix "SASL_" .Values.kafka.securityProtocol -}}true{{- end -}}
{{- end -}}

{{- define "careledger.kafkaUsesTls" -}}
{{- if has .Values.kafka.securityProtocol (list "SSL" "SASL_SSL") -}}true{{- end -}}
{{- end -}}

{{/*
The SASL user of a process as CARELEDGER_KAFKA_SASL_* variables, only ever as secretKeyRef (careruntime.
kafka_security reads them). (dict "root" $ "who" "ledger" "user" <kafkaUser values>)
*/}}
{{- define "careledger.kafkaSecretEnv" -}}
{{- $p := include "careledger.kafkaEnvPrefix" . }}
{{- if include "careledger.kafkaUsesSasl" .root }}
{{- if not .user.existingSecret }}
{{- fail (printf "kafka.securityProtocol is %s: set %s.kafkaUser.existingSecret (a Secret with the Kafka user's name and password)" .root.Values.kafka.securityProtocol .who) }}
{{- end }}
- name: {{ $p }}SASL_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ .user.existingSecret }}
      key: {{ .user.usernameKey }}
- name: {{ $p }}SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .user.existingSecret }}
      key: {{ .user.passwordKey }}
{{- end }}
{{- end -}}

{{/* Non-secret Kafka security settings, as CARELEDGER_KAFKA_* (ConfigMap data or env values): the root context. */}}
{{- define "careledger.kafkaSecurityConfig" -}}
{{- $p := include "careledger.kafkaEnvPrefix" . }}
{{ $p }}SECURITY_PROTOCOL: {{ .Values.kafka.securityProtocol | quote }}
{{- if include "careledger.kafkaUsesSasl" . }}
{{ $p }}SASL_MECHANISM: {{ .Values.kafka.sasl.mechanism | quote }}
{{- end }}
{{- if include "careledger.kafkaUsesTls" . }}
{{- if .Values.kafka.tls.caSecret.name }}
{{ $p }}SSL_CAFILE: {{ printf "/etc/careledger/kafka-ca/%s" .Values.kafka.tls.caSecret.key | quote }}
{{- end }}
{{- if .Values.kafka.tls.clientSecret }}
{{ $p }}SSL_CERTFILE: "/etc/careledger/kafka-client/tls.crt"
{{ $p }}SSL_KEYFILE: "/etc/careledger/kafka-client/tls.key"
{{- end }}
{{- end }}
{{- end -}}

{{/* Kafka security as a container env list (for the hook Jobs, which run before any ConfigMap exists):
(dict "root" $ "who" "topics" "user" <kafkaUser values>) */}}
{{- define "careledger.kafkaSecurityEnvList" -}}
{{- range $name, $value := include "careledger.kafkaSecurityConfig" .root | fromYaml }}
- name: {{ $name }}
  value: {{ $value | quote }}
{{- end }}
{{- include "careledger.kafkaSecretEnv" . }}
{{- end -}}
