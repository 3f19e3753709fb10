"""Map decoded wire messages to the ledger's domain events, and ledger outcomes to wire messages.

Outgoing envelopes are built as plain dicts and serialised with orjson: this is the hot path, and the
exported JSON Schemas (tested) pin their shape, so a pydantic round trip per entry would buy nothing.
"""
from __future__ import annotations

import hashlib
from typing import Any

import orjson

from ..domain.model import Entry, Event, Outcome
from ..domain.rules_payments import invoice_key

SOURCE = "urn:careledger:ledger"
CONTENT_TYPE = b"application/cloudevents+json; charset=UTF-8"

# Payload attributes that name the things a batch must load before the rules run.
REF_FIELDS = ("budget_id", "provider_id", "order_id", "schedule_id", "payment_id", "recovery_id")


def to_event(envelope: Any, payload: Any, content_hash: str) -> Event:
    return Event(envelope.id, envelope.type, envelope.councilid, content_hash,
                 envelope.time.isoformat(), payload)


def refs_of(council_id: str, payload: Any, found: dict[str, set[str]]) -> None:
    """Add the ids a payload refers to, by field name (invoice lines add their budgets)."""
    for name in REF_FIELDS:
        value = getattr(payload, name, None)
        if value:
            found.setdefault(name, set()).add(value)
    for line in getattr(payload, "lines", None) or ():
        budget_id = getattr(line, "budget_id", None)
        if budget_id:
            found.setdefault("budget_id", set()).add(budget_id)
    invoice_id = getattr(payload, "invoice_id", None)
    if invoice_id and getattr(payload, "provider_id", None):
        found.setdefault("invoice_key", set()).add(invoice_key(council_id, payload.provider_id, invoice_id))


def _envelope(ev_id: str, type_name: str, cause: Any, data: dict) -> bytes:
    return orjson.dumps({
        "specversion": "1.0", "id": ev_id, "source": SOURCE, "type": type_name,
        "time": cause.time.isoformat(), "subject": cause.subject, "datacontenttype": "application/json",
        "councilid": cause.councilid, "correlationid": cause.correlationid, "causationid": cause.id,
        "data": data,
    })


def entry_message(entry: Entry, cause: Any) -> bytes:
    data = {
        "entry_id": entry.entry_id, "shard": entry.shard, "shard_seq": entry.shard_seq,
        "effective_date": entry.effective_date.isoformat(), "recorded_at": entry.recorded_at,
        "cause_event_id": entry.cause_event_id, "cause_type": entry.cause_type,
        "rule_version": entry.rule_version,
        "lines": [{"account": ln.account, "debit_pence": ln.debit, "credit_pence": ln.credit} for ln in entry.lines],
        "reverses_entry_id": entry.reverses_entry_id, "prev_hash": entry.prev_hash, "hash": entry.hash,
    }
    return _envelope(f"E{entry.hash}", "ledger.EntryPosted.v1", cause, data)


def rejection_message(outcome: Outcome, shard: str, cause: Any) -> bytes:
    ev, rejection = outcome.event, outcome.rejection
    digest = hashlib.sha256(f"{ev.event_id}|{ev.content_hash}".encode()).hexdigest()
    data = {
        "cause_event_id": ev.event_id, "cause_type": ev.type, "shard": shard,
        "reason_code": rejection.code, "detail": rejection.detail,
        "effective_date": ev.payload.effective_date.isoformat(),
    }
    return _envelope(f"R{digest}", "ledger.PostingRejected.v1", cause, data)
