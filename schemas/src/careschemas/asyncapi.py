"""Builds the AsyncAPI 3.0.0 document of the whole system from the registry and the topic table.

Channels are the Kafka topics and their dead-letter topics; operations say which service sends and
receives what; every type is a message whose payload is the CloudEvents envelope with `type` fixed and
`data` the type's schema. Schemas use the AsyncAPI Schema format (a superset of JSON Schema draft 7):
pydantic's `$defs` are lifted into `components.schemas` so every `$ref` resolves inside the document.
"""
from __future__ import annotations

from typing import Any

from .envelope import CONTENT_TYPE, Envelope
from .examples import example_envelope
from .reasons import DLQ_REASONS
from .registry import MODELS, kind
from .topics import (
    ALLOCATION_COMMANDS, ALLOCATION_EVENTS, DEFAULT_PARTITIONS, DLQ_PARTITIONS, DLQ_DETAIL_HEADER, DLQ_FAILED_AT_HEADER,
    DLQ_GROUP_HEADER, DLQ_MAX_KEPT_BYTES, DLQ_OFFSET_HEADER, DLQ_PARTITION_HEADER, DLQ_REASON_HEADER, DLQ_TOPIC_HEADER,
    DLQ_TRUNCATED_HEADER, LEDGER_ENTRIES, PAYMENTS_COMMANDS, PAYMENTS_EVENTS, TOPIC_TYPES, TOPICS, dlq, key_fields,
)

INFO_VERSION = "1.0.0"
DEAD_LETTER = "DeadLetter"

# service -> (topics it receives, topics it sends). Every receiver also sends to the receiving topic's DLQ.
SERVICES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "allocation": ((ALLOCATION_COMMANDS,), (ALLOCATION_EVENTS,)),
    "payments": ((PAYMENTS_COMMANDS, ALLOCATION_EVENTS), (PAYMENTS_EVENTS,)),
    "ledger": ((ALLOCATION_EVENTS, PAYMENTS_EVENTS), (LEDGER_ENTRIES,)),
    "reporting": ((LEDGER_ENTRIES, ALLOCATION_EVENTS, PAYMENTS_EVENTS), ()),
}

_TOPIC_PURPOSE = {
    ALLOCATION_COMMANDS: "Commands from the council's case system to the allocation service.",
    ALLOCATION_EVENTS: "Facts about budgets, funding, routes, providers and service orders.",
    PAYMENTS_COMMANDS: "Commands to the payments service: schedules, runs, bank statements, provider invoices.",
    PAYMENTS_EVENTS: "Facts about direct payments, payment runs, settlements, recoveries and provider invoices.",
    LEDGER_ENTRIES: "Every committed journal entry and every refused posting, in hash-chain order per shard.",
}


def channel_id(topic: str) -> str:
    """allocation.commands.v1 -> allocationCommandsV1; allocation.commands.v1.dlq -> allocationCommandsV1Dlq."""
    first, *rest = topic.split(".")
    return first + "".join(part[:1].upper() + part[1:] for part in rest)


def lift_defs(schema: dict[str, Any], into: dict[str, Any]) -> dict[str, Any]:
    """A copy of `schema` without `$defs`, its definitions moved into `into` and refs rewritten."""
    for name, definition in schema.get("$defs", {}).items():
        definition = _rewrite_refs(definition)
        if name in into and into[name] != definition:
            raise ValueError(f"two different schemas are both called {name}")
        into[name] = definition
    return _rewrite_refs({k: v for k, v in schema.items() if k != "$defs"})


def _rewrite_refs(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: (v.replace("#/$defs/", "#/components/schemas/") if k == "$ref" else _rewrite_refs(v))
                for k, v in node.items()}
    if isinstance(node, list):
        return [_rewrite_refs(v) for v in node]
    return node


def key_description(type_name: str) -> str:
    fields = key_fields(MODELS[type_name])
    return "Message key: " + ", else ".join(f"`{f}`" for f in fields) + "."


def _message(type_name: str) -> dict[str, Any]:
    model = MODELS[type_name]
    return {
        "name": type_name,
        "title": model.__name__,
        "summary": (model.__doc__ or "").strip().split("\n")[0],
        "description": key_description(type_name),
        "contentType": CONTENT_TYPE,
        "headers": {"$ref": "#/components/schemas/KafkaHeaders"},
        "correlationId": {"location": "$message.payload#/correlationid"},
        "payload": {"allOf": [
            {"$ref": "#/components/schemas/Envelope"},
            {"type": "object", "required": ["type", "data"], "properties": {
                "type": {"const": type_name},
                "data": {"$ref": f"#/components/schemas/{type_name}"},
            }},
        ]},
        "bindings": {"kafka": {"key": {"type": "string", "description": key_description(type_name)},
                               "bindingVersion": "0.5.0"}},
        "examples": [{"name": "example", "headers": {"content-type": CONTENT_TYPE},
                      "payload": example_envelope(type_name)}],
        "tags": [{"name": type_name.split(".")[0]}, {"name": kind(type_name)}],
    }


def _dead_letter_message() -> dict[str, Any]:
    return {
        "name": DEAD_LETTER,
        "title": "Dead letter",
        "summary": "A message a consumer could not decode or validate, unchanged, with the reason in headers.",
        "contentType": "application/octet-stream",
        "headers": {"type": "object", "required": [DLQ_REASON_HEADER, DLQ_TOPIC_HEADER, DLQ_PARTITION_HEADER,
                                                   DLQ_OFFSET_HEADER], "properties": {
            DLQ_REASON_HEADER: {"type": "string", "enum": sorted(DLQ_REASONS)},
            DLQ_DETAIL_HEADER: {"type": "string", "description": "What was wrong, for people."},
            DLQ_TOPIC_HEADER: {"type": "string", "description": "Topic the message was read from."},
            DLQ_PARTITION_HEADER: {"type": "string", "description": "Partition it was read from (decimal)."},
            DLQ_OFFSET_HEADER: {"type": "string", "description": "Offset it was read at (decimal)."},
            DLQ_FAILED_AT_HEADER: {"type": "string", "format": "date-time", "description": "When it was refused."},
            DLQ_GROUP_HEADER: {"type": "string", "description": "Consumer group that refused it (when known)."},
            DLQ_TRUNCATED_HEADER: {"type": "string", "description": "Only when key or value was cut (beyond "
                                   f"{DLQ_MAX_KEPT_BYTES} bytes together): each one's original size and SHA-256."},
            "content-type": {"type": "string", "description": "The original content-type header, when it had one."},
        }},
        "payload": {"description": "The original message value, byte for byte (it may not be JSON); cut when "
                    f"key and value together pass {DLQ_MAX_KEPT_BYTES} bytes."},
        "bindings": {"kafka": {"key": {"type": "string", "description": "The original message key."},
                               "bindingVersion": "0.5.0"}},
    }


def _channel(topic: str, messages: list[str], description: str, partitions: int) -> dict[str, Any]:
    return {
        "address": topic,
        "description": description,
        "messages": {m: {"$ref": f"#/components/messages/{m}"} for m in messages},
        "bindings": {"kafka": {"topic": topic, "partitions": partitions, "bindingVersion": "0.5.0"}},
    }


def _operation(service: str, action: str, topic: str, messages: list[str]) -> tuple[str, dict[str, Any]]:
    cid = channel_id(topic)
    op_id = f"{service}{action.capitalize()}{cid[:1].upper()}{cid[1:]}"
    return op_id, {
        "action": action,
        "channel": {"$ref": f"#/channels/{cid}"},
        "summary": f"{service} {action}s {topic}",
        "messages": [{"$ref": f"#/channels/{cid}/messages/{m}"} for m in messages],
        "tags": [{"name": service}],
    }


def build() -> dict[str, Any]:
    """The AsyncAPI 3.0.0 document (plain JSON data)."""
    schemas: dict[str, Any] = {}
    schemas["Envelope"] = lift_defs(Envelope.model_json_schema(), schemas)
    for type_name, model in MODELS.items():
        schemas[type_name] = lift_defs(model.model_json_schema(), schemas)
    schemas["KafkaHeaders"] = {"type": "object", "required": ["content-type"], "properties": {
        "content-type": {"type": "string", "const": CONTENT_TYPE,
                         "description": "CloudEvents structured mode (the whole event is the value)."}}}

    channels: dict[str, Any] = {}
    for topic in TOPICS:
        channels[channel_id(topic)] = _channel(topic, list(TOPIC_TYPES[topic]), _TOPIC_PURPOSE[topic],
                                               DEFAULT_PARTITIONS)
        channels[channel_id(dlq(topic))] = _channel(dlq(topic), [DEAD_LETTER], f"Dead letters of {topic}.",
                                                    DLQ_PARTITIONS)

    operations: dict[str, Any] = {}
    for service, (receives, sends) in SERVICES.items():
        for topic in receives:
            operations.update([_operation(service, "receive", topic, list(TOPIC_TYPES[topic])),
                               _operation(service, "send", dlq(topic), [DEAD_LETTER])])
        for topic in sends:
            operations.update([_operation(service, "send", topic, list(TOPIC_TYPES[topic]))])

    messages = {t: _message(t) for t in MODELS}
    messages[DEAD_LETTER] = _dead_letter_message()
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Care budget ledger: wire contracts",
            "version": INFO_VERSION,
            "description": "Events and commands between the allocation, payments, ledger and reporting services "
                           "of the personal budget ledger. Every message is a CloudEvents 1.0 envelope in "
                           "structured JSON mode; money is integer pence; dates are ISO 8601. Generated by "
                           "`python -m careschemas.export`; see docs/events.md.",
        },
        "defaultContentType": CONTENT_TYPE,
        "servers": {"local": {"host": "127.0.0.1:9092", "protocol": "kafka",
                              "description": "Single-node broker of the local stack (deploy/local)."}},
        "channels": channels,
        "operations": operations,
        "components": {"schemas": schemas, "messages": messages},
    }
