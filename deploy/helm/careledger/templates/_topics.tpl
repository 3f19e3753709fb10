{{/*
The topic declarations for `python -m careruntime.topics ensure`, the same topics and settings as
deploy/topics.yaml (a test keeps the two in step) with the cluster's partitions and replication.
Retention is forever: a service rebuilds its state by replaying from offset zero.
*/}}
{{- define "careledger.topicsConfig" -}}
{{- $k := .Values.kafka -}}
{{- if gt (int $k.minInsyncReplicas) (int $k.replicationFactor) -}}
{{- fail (printf "kafka.minInsyncReplicas %d exceeds kafka.replicationFactor %d" (int $k.minInsyncReplicas) (int $k.replicationFactor)) -}}
{{- end -}}
{{- $topics := list -}}
{{- range (list "allocation.commands.v1" "allocation.events.v1" "payments.commands.v1" "payments.events.v1" "ledger.entries.v1") -}}
{{- $topics = append $topics (dict "name" .) -}}
{{- end -}}
{{- /* dead letters keep their order of arrival: one partition */ -}}
{{- range (list "allocation.commands.v1.dlq" "allocation.events.v1.dlq" "payments.commands.v1.dlq" "payments.events.v1.dlq") -}}
{{- $topics = append $topics (dict "name" . "partitions" 1) -}}
{{- end -}}
{{- /* the allocation views' faust table changelog (co-partitioned with allocation.events.v1) and leader topic */ -}}
{{- $topics = append $topics (dict "name" "allocation-views-budget_summaries-changelog" "config" (dict "cleanup.policy" "compact")) -}}
{{- $topics = append $topics (dict "name" "allocation-views-__assignor-__leader" "partitions" 1) -}}
{{- $defaults := dict
      "partitions" (int $k.partitions)
      "replication_factor" (int $k.replicationFactor)
      "config" (dict
        "cleanup.policy" "delete"
        "retention.ms" "-1"
        "retention.bytes" "-1"
        "compression.type" "producer"
        "min.insync.replicas" (toString (int $k.minInsyncReplicas))) -}}
{{- dict "defaults" $defaults "topics" $topics | toPrettyJson -}}
{{- end -}}
