"""Map decoded wire messages to the ledger's domain events, and ledger outcomes to wire messages.

Outgoing envelopes are built as plain dicts and serialised with orjson: this is the hot path, and the
exported JSON Schemas (tested) pin their shape, so a pydantic round trip per entry would buy nothing.
"""
from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import orjson

from ..domain.model import Event, Outcome
from ..domain.rules_payments import invoice_key

SOURCE = "urn:careledger:ledger"

# Payload attributes that name the things a batch must load before the rules run.
REF_FIELDS = ("budget_id", "provider_id", "order_id", "schedule_id", "payment_id", "recovery_id")


def to_event(envelope: Any, payload: Any, content_hash: str) -> Event:
    return Event(envelope.id, envelope.type, envelope.councilid, content_hash,
                 envelope.time.isoformat(), payload)


def refs_of(council_id: str, payload: Any, found: dict[str, set[str]]) -> None:
    """Add the ids a payload refers to, by field name (invoice lines add their budgets)."""
    names, has_lines, has_invoice = _ref_fields(type(payload))
    if names is None:  # not a pydantic model: plain attribute access
        _refs_by_getattr(council_id, payload, found)
        return
    values = payload.__dict__
    for name in names:
        value = values[name]
        if value:
            found.setdefault(name, set()).add(value)
    if has_lines:
        for line in values["lines"] or ():
            _line_refs(line, found)
    if has_invoice and values["invoice_id"] and values["provider_id"]:
        found.setdefault("invoice_key", set()).add(invoice_key(council_id, values["provider_id"], values["invoice_id"]))


def _line_refs(line: Any, found: dict[str, set[str]]) -> None:
    """An invoice line names a budget and the service order it bills."""
    for name in ("budget_id", "order_id"):
        value = getattr(line, name, None)
        if value:
            found.setdefault(name, set()).add(value)


_REF_FIELDS_OF: dict[type, tuple[tuple[str, ...] | None, bool, bool]] = {}


def _ref_fields(cls: type) -> tuple[tuple[str, ...] | None, bool, bool]:
    """Which of REF_FIELDS, `lines`, `invoice_id`+`provider_id` a payload model has, once per class.

    The hot path: `getattr(payload, name, None)` on a pydantic model that lacks the field goes through
    BaseModel.__getattr__ and an AttributeError, which cost more than the rest of the batch's wiring.
    Fields live in the instance's __dict__ (the models are frozen and forbid extras), so this reads
    exactly what getattr would.
    """
    known = _REF_FIELDS_OF.get(cls)
    if known is None:
        fields = getattr(cls, "model_fields", None)
        if not isinstance(fields, dict) or any(name in fields and hasattr(cls, name) for name in (*REF_FIELDS, "lines", "invoice_id")):
            known = (None, False, False)  # not a plain pydantic model, or a field shadowed on the class
        else:
            known = (tuple(name for name in REF_FIELDS if name in fields), "lines" in fields,
                     "invoice_id" in fields and "provider_id" in fields)
        _REF_FIELDS_OF[cls] = known
    return known


def _refs_by_getattr(council_id: str, payload: Any, found: dict[str, set[str]]) -> None:
    for name in REF_FIELDS:
        value = getattr(payload, name, None)
        if value:
            found.setdefault(name, set()).add(value)
    for line in getattr(payload, "lines", None) or ():
        _line_refs(line, found)
    invoice_id = getattr(payload, "invoice_id", None)
    if invoice_id and getattr(payload, "provider_id", None):
        found.setdefault("invoice_key", set()).add(invoice_key(council_id, payload.provider_id, invoice_id))


def _envelope(ev_id: str, type_name: str, time: str, subject: str, council_id: str, correlation_id: str,
              causation_id: str, data: dict) -> bytes:
    """`time` is the cause's recorded time as to_event formats it (cause.time.isoformat())."""
    return orjson.dumps({
        "specversion": "1.0", "id": ev_id, "source": SOURCE, "type": type_name,
        "time": time, "subject": subject, "datacontenttype": "application/json",
        "councilid": council_id, "correlationid": correlation_id, "causationid": causation_id,
        "data": data,
    })


def entry_message(row: Mapping[str, Any]) -> bytes:
    """The EntryPosted message of a journal row (repository.JOURNAL_COLUMNS), as the relay publishes it."""
    data = {
        "entry_id": row["entry_id"], "shard": row["shard"], "shard_seq": row["shard_seq"],
        "effective_date": row["effective_date"].isoformat(), "recorded_at": row["recorded_at"],
        "cause_event_id": row["cause_event_id"], "cause_type": row["cause_type"],
        "rule_version": row["rule_version"],
        "lines": [{"account": account, "debit_pence": debit, "credit_pence": credit}
                  for account, debit, credit in zip(row["accounts"], row["debits"], row["credits"], strict=True)],
        "reverses_entry_id": row["reverses_entry_id"], "prev_hash": row["prev_hash"], "hash": row["hash"],
    }
    return _envelope(f"E{row['hash']}", "ledger.EntryPosted.v1", row["recorded_at"], row["cause_subject"],
                     row["council_id"], row["correlation_id"], row["cause_event_id"], data)


def rejection_message(outcome: Outcome, shard: str, cause: Any) -> bytes:
    ev, rejection = outcome.event, outcome.rejection
    if rejection is None:
        raise ValueError(f"outcome {outcome.kind} of {ev.event_id} is not a rejection")
    digest = hashlib.sha256(f"{ev.event_id}|{ev.content_hash}".encode()).hexdigest()
    data = {
        "cause_event_id": ev.event_id, "cause_type": ev.type, "shard": shard,
        "reason_code": rejection.code, "detail": rejection.detail,
        "effective_date": ev.payload.effective_date.isoformat(),
    }
    return _envelope(f"R{digest}", "ledger.PostingRejected.v1", ev.recorded_at, cause.subject, cause.councilid,
                     cause.correlationid, cause.id, data)
