"""Reconciliation of statements against instructed payments: settled, returned and unmatched lines."""

from __future__ import annotations

import dataclasses
import sys
from datetime import date
from pathlib import Path

from payments.formats import Statement, StatementEntry, parse_camt, reasons, reconcile

sys.path.insert(0, str(Path(__file__).parent))
from test_formats_sample import GOLDEN, SAMPLE_INSTRUCTED

DAY = date(2026, 12, 1)


def line(
    ref: str, e2e: str | None, pence: int, *, credit: bool = False, status: str = "BOOK", reason: str | None = None
) -> StatementEntry:
    return StatementEntry(ref, e2e, pence, credit, DAY, status, reason)


def statement(*entries: StatementEntry) -> Statement:
    return Statement("S1", "GB33BUKB20201555555555", entries)


def test_run_statement_fixture_settles_returns_and_leaves_the_rest_unmatched_with_reasons() -> None:
    result = reconcile(parse_camt((GOLDEN / "camt053_run_statement.xml").read_bytes()), SAMPLE_INSTRUCTED)
    assert [(s.payment_id, s.amount_pence, s.entry_ref) for s in result.settled] == [
        ("pay-0001", 12345, "BNK-000101"),
        ("pay-0002", 1, "BNK-000102/1"),
        ("pay-0003", 35000, "BNK-000102/2"),
    ]
    assert [(r.payment_id, r.amount_pence, r.reason_code) for r in result.returned] == [("pay-0004", 7550, "AC04")]
    assert {e.entry_ref: result.reason_for(e) for e in result.unmatched} == {
        "BNK-000104": reasons.UNKNOWN_END_TO_END_ID,
        "BNK-000105": reasons.AMOUNT_MISMATCH,
        "BNK-000106": reasons.NO_END_TO_END_ID,
        "BNK-000107": reasons.NOT_BOOKED,
    }
    accounted = len(result.settled) + len(result.returned) + len(result.unmatched)
    assert accounted == len(parse_camt((GOLDEN / "camt053_run_statement.xml").read_bytes()).entries)


def test_a_later_notification_returns_a_payment_that_had_settled() -> None:
    notification = parse_camt((GOLDEN / "camt054_return_notification.xml").read_bytes())
    result = reconcile(notification, SAMPLE_INSTRUCTED)
    assert [(r.payment_id, r.end_to_end_id, r.reason_code, r.booked_on) for r in result.returned] == [
        ("pay-0003", "E2E-0003", "AC01", date(2026, 12, 3))
    ]
    assert result.settled == () and result.unmatched == ()


def test_settlement_then_return_in_one_statement_yields_both() -> None:
    result = reconcile(
        statement(line("a", "E2E-0001", 12345), line("b", "E2E-0001", 12345, credit=True, reason="AC04")),
        SAMPLE_INSTRUCTED,
    )
    assert [s.entry_ref for s in result.settled] == ["a"]
    assert [r.entry_ref for r in result.returned] == ["b"]


def test_second_settlement_and_second_return_of_one_payment_are_not_counted_twice() -> None:
    result = reconcile(
        statement(
            line("a", "E2E-0001", 12345),
            line("b", "E2E-0001", 12345),
            line("c", "E2E-0001", 12345, credit=True, reason="AC04"),
            line("d", "E2E-0001", 12345, credit=True, reason="AC04"),
        ),
        SAMPLE_INSTRUCTED,
    )
    assert [s.entry_ref for s in result.settled] == ["a"]
    assert [r.entry_ref for r in result.returned] == ["c"]
    assert result.unmatched_reasons == {"b": reasons.DUPLICATE_SETTLEMENT, "d": reasons.DUPLICATE_RETURN}


def test_direction_amount_and_currency_must_all_agree() -> None:
    euro = dataclasses.replace(line("e", "E2E-0002", 1), currency="EUR")
    result = reconcile(
        statement(
            line("a", "E2E-0001", 12345, credit=True),  # money in, no return information
            line("b", "E2E-0001", 12345, reason="AC04"),  # return information on a debit
            line("c", "E2E-0004", 7549, credit=True, reason="AC04"),  # partial return
            line("d", "E2E-0003", 35001),  # over-settled by a penny
            euro,
        ),
        SAMPLE_INSTRUCTED,
    )
    assert result.settled == () and result.returned == ()
    assert result.unmatched_reasons == {
        "a": reasons.UNEXPECTED_CREDIT,
        "b": reasons.UNEXPECTED_DEBIT_RETURN,
        "c": reasons.AMOUNT_MISMATCH,
        "d": reasons.AMOUNT_MISMATCH,
        "e": reasons.CURRENCY_MISMATCH,
    }
    assert set(result.unmatched_reasons.values()) <= set(reasons.ALL)


def test_nothing_instructed_means_nothing_matches() -> None:
    result = reconcile(statement(line("a", "E2E-0001", 12345)), {})
    assert result.unmatched_reasons == {"a": reasons.UNKNOWN_END_TO_END_ID}
