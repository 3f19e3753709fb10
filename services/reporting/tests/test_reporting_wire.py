"""Unit tests of wire-to-row mapping: an EntryPosted, a PostingRejected and a domain event become the rows
the projection tables expect, in column order."""
from __future__ import annotations

from datetime import date

import orjson
from careruntime.codec import decode
from reporting.adapters.wire import (
    DOMAIN_COLUMNS, ENTRY_COLUMNS, REJECTION_COLUMNS, domain_row, entry_row, rejection_row,
)


def envelope(type_name: str, data: dict, ev_id: str = "ev-1") -> bytes:
    return orjson.dumps({"specversion": "1.0", "id": ev_id, "source": "urn:t", "type": type_name,
                         "time": "2026-04-01T12:00:00.000007+00:00", "subject": "s", "datacontenttype": "application/json",
                         "councilid": "E1", "correlationid": "c", "data": data})


def test_entry_posted_becomes_one_row_with_parallel_line_arrays():
    d = decode(envelope("ledger.EntryPosted.v1", {
        "entry_id": "E1", "shard": "in:0", "shard_seq": 3, "effective_date": "2026-04-01",
        "recorded_at": "2026-04-01T12:00:00.000007+00:00", "cause_event_id": "ev-0", "cause_type": "allocation.PersonalBudgetAgreed.v1",
        "rule_version": "2026.1", "lines": [{"account": "E1/funding/B/council", "debit_pence": 5},
                                             {"account": "E1/budget/B", "credit_pence": 5}],
        "prev_hash": "0" * 64, "hash": "1" * 64}))
    row = dict(zip(ENTRY_COLUMNS, entry_row(d)))
    assert row["accounts"] == ["E1/funding/B/council", "E1/budget/B"]
    assert (row["debits"], row["credits"]) == ([5, 0], [0, 5])
    assert row["council_id"] == "E1" and row["shard_seq"] == 3
    assert row["recorded_at"] == "2026-04-01T12:00:00.000007+00:00"  # the ledger's text, as its journal holds it


def test_posting_rejected_is_dated_by_its_payload_and_its_envelope():
    d = decode(envelope("ledger.PostingRejected.v1", {
        "cause_event_id": "ev-9", "cause_type": "payments.PaymentInstructed.v1", "shard": "in:1",
        "reason_code": "PAYMENT_AFTER_DEATH", "detail": "died", "effective_date": "2026-06-20"}, ev_id="R" + "a" * 64))
    row = dict(zip(REJECTION_COLUMNS, rejection_row(d)))
    assert row["rejection_id"] == "R" + "a" * 64 and row["effective_date"] == date(2026, 6, 20)
    assert row["reason_code"] == "PAYMENT_AFTER_DEATH" and row["recorded_at"].microsecond == 7


def test_a_domain_event_keeps_its_data_and_position():
    d = decode(envelope("allocation.ProviderRegistered.v1", {
        "provider_id": "PR-1", "name": "Acme", "provider_type": "private", "effective_date": "2026-03-25"}))
    row = dict(zip(DOMAIN_COLUMNS, domain_row(d, "allocation.events.v1", 2, 41)))
    assert (row["topic"], row["partition"], row["offset"]) == ("allocation.events.v1", 2, 41)
    assert orjson.loads(row["data"])["provider_type"] == "private"
    assert row["content_hash"] == d.content_hash and row["effective_date"] == date(2026, 3, 25)
