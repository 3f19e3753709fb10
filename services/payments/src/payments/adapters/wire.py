"""The wire side of the payments service: content hashes of consumed messages, the ids, envelopes and
outbox rows of the events it emits.

Everything is deterministic, so a batch decided again after a crash produces byte-identical messages:
event ids derive from the command id, the recorded time is the command's, the key is
careschemas.topics.message_key of the event. PaymentInstructed, emitted by the hundred thousand in a
payment run, has a fast path that writes the same bytes as the generic path (a unit test compares).
"""
from __future__ import annotations

import hashlib
from datetime import date

import orjson
from careruntime.codec import OUTBOX_HEADERS, encode
from careruntime.event_ids import PAYMENTS, stem
from careruntime.outbox import OutboxRow
from careschemas.common import Event
from careschemas.envelope import Envelope
from careschemas.payments_events import CommandRejected, PaymentInstructed
from careschemas.registry import make_envelope
from careschemas.topics import message_key

SOURCE = "urn:careledger:payments"
_INSTRUCTED = PaymentInstructed.TYPE


def content_hash(envelope: Envelope) -> str:
    """sha256 of what a message says: its type, council and data (transport attributes left out, so a
    sender that rebuilds the envelope when it retries gets the same outcome, not a conflict)."""
    canonical = orjson.dumps({"type": envelope.type, "councilid": envelope.councilid, "data": envelope.data},
                             option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


def conflict_event_id(command_id: str, digest: str) -> str:
    suffix = f"c{digest[:16]}"
    return stem(command_id, len(suffix)) + suffix


class Emitter:
    """Collects the events one consumed message leads to, as outbox rows with ids `<cause id>.pN`
    (careruntime.event_ids: allocation's are `.eN`, so one command id used at both leads to different ids)."""

    def __init__(self, topic: str, cause: Envelope) -> None:
        self.topic, self.cause = topic, cause
        self.rows: list[OutboxRow] = []
        self._stem = stem(cause.id, 8)  # up to p9999999
        self._time = orjson.loads(orjson.dumps(cause.model_dump(mode="json")["time"]))

    def _next_id(self) -> str:
        return f"{self._stem}{PAYMENTS}{len(self.rows) + 1}"

    def event(self, event: Event, subject: str | None = None) -> str:
        """Queue one event; returns its id."""
        event_id = self._next_id()
        key = message_key(event)
        env = make_envelope(event, id=event_id, source=SOURCE, subject=subject or key,
                            council_id=self.cause.councilid, correlation_id=self.cause.correlationid,
                            causation_id=self.cause.id, time=self.cause.time)
        self.rows.append(OutboxRow(self.topic, key.encode(), encode(env), OUTBOX_HEADERS))
        return event_id

    def instructed(self, *, payment_id: str, run_id: str, kind: str, budget_id: str | None, provider_id: str | None,
                   invoice_id: str | None, amount_pence: int, due_date: date, effective_date: date) -> None:
        """PaymentInstructed without building models: the bytes `event()` would write (see the test)."""
        if kind == "invoice" and provider_id is None or kind != "invoice" and budget_id is None:
            raise ValueError(f"payment {payment_id}: kind {kind} needs its budget or provider")
        if amount_pence <= 0:
            raise ValueError(f"payment {payment_id}: amount must be positive")
        key = budget_id or provider_id
        env = {
            "specversion": "1.0", "id": self._next_id(), "source": SOURCE, "type": _INSTRUCTED,
            "time": self._time, "subject": key, "datacontenttype": "application/json",
            "councilid": self.cause.councilid, "correlationid": self.cause.correlationid,
            "causationid": self.cause.id,
            "data": {"payment_id": payment_id, "run_id": run_id, "kind": kind, "budget_id": budget_id,
                     "provider_id": provider_id, "invoice_id": invoice_id, "amount_pence": amount_pence,
                     "due_date": due_date.isoformat(), "effective_date": effective_date.isoformat()},
        }
        self.rows.append(OutboxRow(self.topic, key.encode(), orjson.dumps(env, option=orjson.OPT_SORT_KEYS),
                                   OUTBOX_HEADERS))


def rejection(topic: str, command: Envelope, effective_date: date, code: str, detail: str,
              event_id: str | None = None) -> OutboxRow:
    """The CommandRejected row of a refused command (subject: the command's aggregate)."""
    event = CommandRejected(command_id=command.id, command_type=command.type, reason_code=code,
                            detail=detail[:2000], effective_date=effective_date)
    env = make_envelope(event, id=event_id or f"{stem(command.id, 2)}{PAYMENTS}1", source=SOURCE, subject=command.subject,
                        council_id=command.councilid, correlation_id=command.correlationid,
                        causation_id=command.id, time=command.time)
    return OutboxRow(topic, message_key(event).encode(), encode(env), OUTBOX_HEADERS)
