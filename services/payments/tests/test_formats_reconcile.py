"""Reconciliation of statements against instructed payments: settled, returned and unmatched lines."""

from __future__ import annotations

import dataclasses
import sys
from datetime import date
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from payments.formats import Statement, StatementEntry, parse_camt, reasons, reconcile, render_pain001

sys.path.insert(0, str(Path(__file__).parent))
from test_formats_sample import GOLDEN, SAMPLE_BATCH, SAMPLE_INSTRUCTED

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


def bank_statement_for(pain001: bytes, returned: set[str]) -> bytes:
    """What a bank would send back for a pain.001 it executed: a debit per transfer, plus a credit
    back (AC04) for each EndToEndId in returned. Built from the file we sent, not from our model."""
    ns = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"}
    entries = []
    for n, transfer in enumerate(etree.fromstring(pain001).iterfind(".//p:CdtTrfTxInf", ns)):
        e2e = transfer.findtext("p:PmtId/p:EndToEndId", namespaces=ns)
        amount = transfer.findtext("p:Amt/p:InstdAmt", namespaces=ns)
        entries.append(_CAMT_ENTRY.format(ref=f"D{n}", indicator="DBIT", amount=amount, e2e=e2e, extra=""))
        if e2e in returned:
            reason = "<RtrInf><Rsn><Cd>AC04</Cd></Rsn></RtrInf>"
            entries.append(_CAMT_ENTRY.format(ref=f"C{n}", indicator="CRDT", amount=amount, e2e=e2e, extra=reason))
    return (
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt><GrpHdr><MsgId>M</MsgId>'
        "<CreDtTm>2026-12-02T06:00:00</CreDtTm></GrpHdr><Stmt><Id>S</Id><Acct><Id><IBAN>GB33BUKB20201555555555</IBAN>"
        f"</Id></Acct>{''.join(entries)}</Stmt></BkToCstmrStmt></Document>"
    ).encode()


_CAMT_ENTRY = (
    '<Ntry><Amt Ccy="GBP">{amount}</Amt><CdtDbtInd>{indicator}</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>'
    "<BookgDt><Dt>2026-12-01</Dt></BookgDt><AcctSvcrRef>{ref}</AcctSvcrRef>"
    "<NtryDtls><TxDtls><Refs><EndToEndId>{e2e}</EndToEndId></Refs>{extra}</TxDtls></NtryDtls></Ntry>"
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 10**9), st.booleans()), min_size=1, max_size=40))
def test_a_run_sent_as_pain001_reconciles_completely_from_the_banks_answer(payments: list[tuple[int, bool]]) -> None:
    instructions = tuple(
        dataclasses.replace(
            SAMPLE_BATCH.instructions[0], payment_id=f"pay-{n}", end_to_end_id=f"E2E-{n}", amount_pence=a
        )
        for n, (a, _) in enumerate(payments)
    )
    batch = dataclasses.replace(SAMPLE_BATCH, instructions=instructions)
    returned = {f"E2E-{n}" for n, (_, is_returned) in enumerate(payments) if is_returned}
    instructed = {i.end_to_end_id: (i.payment_id, i.amount_pence) for i in instructions}

    result = reconcile(parse_camt(bank_statement_for(render_pain001(batch), returned)), instructed)

    assert result.unmatched == ()
    assert [s.payment_id for s in result.settled] == [i.payment_id for i in instructions]
    assert sum(s.amount_pence for s in result.settled) == batch.total_pence
    assert {r.end_to_end_id for r in result.returned} == returned
