"""Build wire messages (topic, key, value) from payload fields, exactly as a producer would send them."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timezone

from careschemas.registry import make_envelope, payload_model
from careschemas.topics import message_key, topic_for
from careruntime.codec import encode

SOURCE = "urn:careledger:demo-generator"


@dataclass(frozen=True, slots=True)
class Message:
    topic: str
    key: bytes
    value: bytes
    at: datetime  # recorded time, used to order the stream


def at_noon(day: date, seq: int = 0) -> datetime:
    return datetime.combine(day, time(12, 0), tzinfo=timezone.utc).replace(microsecond=seq % 1_000_000)


def message(type_name: str, event_id: str, council_id: str, when: datetime, **fields) -> Message:
    payload = payload_model(type_name).model_validate(fields)
    key = message_key(payload)
    envelope = make_envelope(payload, id=event_id, source=SOURCE, subject=key, council_id=council_id,
                             correlation_id=f"corr-{key}", time=when)
    return Message(topic_for(type_name), key.encode(), encode(envelope), when)
