"""Ledger events: balanced entries of one-sided lines, hash-chain fields, rejections with a reason."""
from __future__ import annotations

import pytest

from careschemas.ledger_events import EntryLine, EntryPosted

from schemas_testkit import DROP, data, invalid, valid

POSTED = "ledger.EntryPosted.v1"
LINES = data(POSTED)["lines"]


def test_entry_is_balanced_and_typed():
    entry = valid(POSTED)
    assert isinstance(entry, EntryPosted)
    assert sum(x.debit_pence for x in entry.lines) == sum(x.credit_pence for x in entry.lines) == 1_820_000
    assert entry.recorded_at.utcoffset() is not None


def test_unbalanced_entry_is_refused():
    invalid(POSTED, lines=[{**LINES[0], "debit_pence": 1_420_001}, *LINES[1:]])


def test_an_entry_needs_two_lines():
    invalid(POSTED, lines=LINES[:1])


@pytest.mark.parametrize("line", [
    {"account": "C/bank", "debit_pence": 0, "credit_pence": 0},
    {"account": "C/bank", "debit_pence": 5, "credit_pence": 5},
    {"account": "C/bank", "debit_pence": -5, "credit_pence": 0},
    {"account": "C/bank", "debit_pence": 5.0, "credit_pence": 0},
    {"account": "", "debit_pence": 5, "credit_pence": 0},
])
def test_a_line_has_exactly_one_positive_side(line):
    with pytest.raises(ValueError):
        EntryLine.model_validate(line)


def test_one_sided_lines():
    assert EntryLine(account="C001/bank", credit_pence=7).debit_pence == 0


@pytest.mark.parametrize("change", [
    {"shard_seq": 0}, {"shard_seq": "1"}, {"prev_hash": "3f" * 31}, {"hash": "A7" * 32},
    {"recorded_at": "2025-04-01T09:30:02"}, {"cause_type": "PersonalBudgetAgreed"}, {"cause_event_id": DROP},
    {"rule_version": DROP}, {"entry_id": "a/b"},
])
def test_invalid_entries(change):
    invalid(POSTED, **change)


def test_reversal_cites_what_it_reverses():
    assert valid(POSTED, reverses_entry_id="E-000001").reverses_entry_id == "E-000001"


def test_posting_rejected():
    assert valid("ledger.PostingRejected.v1", reason_code="SPLIT_EXCEEDS_BUDGET").shard == "ledger-3"
    invalid("ledger.PostingRejected.v1", reason_code="insufficient")
    invalid("ledger.PostingRejected.v1", shard=DROP)
