{{/*
What single processes need beyond the shared pieces: files and Secrets of one service's process kind.
Each takes (dict "proc" <careledger.processes entry> "svc" <the service's values>).

- the payments worker writes bank files (payments.bankFiles: a PersistentVolumeClaim, or scratch space)
  and reads the council's bank directory, account numbers and all, from a Secret (payments.bankDirectory);
- the reporting API keeps the audit packs it builds (reporting.api.auditPacks) and reads its access keys'
  hashes from a Secret (reporting.api.apiKeys);
- the reporting worker may be given the ledger database's URL (reporting.ledgerDatabase, a read-only
  login) for `reporting rebuild --from journal` and `reporting sync-ledger` run in its pod.
The paths are in the service's ConfigMap (configmap.yaml), from careledger.filePaths.
*/}}

{{/* Where those files are mounted, as the ConfigMap gives them to the services: the service's values. */}}
{{- define "careledger.filePaths" -}}
{{- if hasKey . "bankFiles" }}
OUT_DIR: /var/lib/careledger/bank-files
{{- end }}
{{- if and (hasKey . "bankDirectory") .bankDirectory.existingSecret }}
BANK_DIRECTORY: {{ printf "/etc/careledger/bank-directory/%s" .bankDirectory.key }}
{{- end }}
{{- if and (hasKey . "api") (hasKey .api "auditPacks") }}
AUDIT_PACK_DIR: /var/lib/careledger/audit-packs
{{- end }}
{{- end -}}

{{- define "careledger.processSecretEnv" -}}
{{- $p := upper .proc.service }}
{{- if and (eq .proc.kind "api") (hasKey .svc.api "apiKeys") }}
- name: {{ $p }}_API_KEYS
  valueFrom:
    secretKeyRef:
      name: {{ .svc.api.apiKeys.existingSecret }}
      key: {{ .svc.api.apiKeys.key }}
{{- end }}
{{- if eq .proc.kind "worker" }}
{{- include "careledger.ledgerDatabaseEnv" (dict "service" .proc.service "svc" .svc) }}
{{- end }}
{{- end -}}

{{/* The ledger database's read-only URL, where a service is given one: (dict "service" "reporting" "svc" <values>) */}}
{{- define "careledger.ledgerDatabaseEnv" -}}
{{- if and (hasKey .svc "ledgerDatabase") .svc.ledgerDatabase.existingSecret }}
- name: {{ upper .service }}_LEDGER_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ .svc.ledgerDatabase.existingSecret }}
      key: {{ .svc.ledgerDatabase.urlKey }}
{{- end }}
{{- end -}}

{{- define "careledger.processVolumes" -}}
{{- if and (eq .proc.kind "worker") (hasKey .svc "bankFiles") }}
- name: bank-files
  {{- if .svc.bankFiles.existingClaim }}
  persistentVolumeClaim:
    claimName: {{ .svc.bankFiles.existingClaim }}
  {{- else }}
  emptyDir:
    sizeLimit: {{ .svc.bankFiles.sizeLimit }}
  {{- end }}
{{- end }}
{{- if and (eq .proc.kind "worker") (hasKey .svc "bankDirectory") .svc.bankDirectory.existingSecret }}
- name: bank-directory
  secret:
    secretName: {{ .svc.bankDirectory.existingSecret }}
    items:
      - key: {{ .svc.bankDirectory.key }}
        path: {{ .svc.bankDirectory.key }}
{{- end }}
{{- if and (eq .proc.kind "api") (hasKey .svc.api "auditPacks") }}
- name: audit-packs
  {{- if .svc.api.auditPacks.existingClaim }}
  persistentVolumeClaim:
    claimName: {{ .svc.api.auditPacks.existingClaim }}
  {{- else }}
  emptyDir:
    sizeLimit: {{ .svc.api.auditPacks.sizeLimit }}
  {{- end }}
{{- end }}
{{- end -}}

{{- define "careledger.processVolumeMounts" -}}
{{- $paths := include "careledger.filePaths" .svc | fromYaml }}
{{- if and (eq .proc.kind "worker") (hasKey .svc "bankFiles") }}
- name: bank-files
  mountPath: {{ $paths.OUT_DIR }}
{{- end }}
{{- if and (eq .proc.kind "worker") (hasKey .svc "bankDirectory") .svc.bankDirectory.existingSecret }}
- name: bank-directory
  mountPath: /etc/careledger/bank-directory
  readOnly: true
{{- end }}
{{- if and (eq .proc.kind "api") (hasKey .svc.api "auditPacks") }}
- name: audit-packs
  mountPath: {{ $paths.AUDIT_PACK_DIR }}
{{- end }}
{{- end -}}
