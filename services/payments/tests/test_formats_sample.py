"""Shared sample data for the payments.formats tests (no tests here).

One payment run of six instructions, chosen to exercise the formats: a payee known only by
sort code, one with IBAN and BIC, accents and punctuation that Bacs must clean, a name longer
than 18 characters, the smallest and a large amount. camt053_run_statement.xml in golden/ is the
bank's answer to this run, so SAMPLE_INSTRUCTED is what reconcile() is given.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from payments.formats import FileBatch, Instruction, Originator, PayeeAccount

GOLDEN = Path(__file__).parent / "golden"

COUNCIL = Originator(
    name="Northshire County Council",
    sort_code="202015",
    account_number="55555555",
    service_user_number="123456",
    iban="GB33BUKB20201555555555",
    bic="BUKBGB22",
)

_PAYEES = (
    PayeeAccount("acct-0001", "Ms Émilie O'Brien", "200000", "55779911"),
    PayeeAccount("acct-0002", "Sunrise Home Care Ltd", "601613", "31926819", "GB29NWBK60161331926819", "NWBKGB2L"),
    PayeeAccount("acct-0003", "Mr J. Smith & Co (PA services) <trading>", "309634", "01234567"),
    PayeeAccount("acct-0004", "Closed Account Person", "401276", "71234568"),
    PayeeAccount("acct-0005", "A B Ravensworth-Fotheringham", "404784", "70872490"),
    PayeeAccount("acct-0006", "Eastgate Day Centre", "200415", "38290008"),
)
_AMOUNTS = (12_345, 1, 35_000, 7_550, 9_999, 123_456)
_REFERENCES = (
    "DP Dec 2026 / PB-77",
    "INV 4471 wk48",
    "dp dec 2026 - #3",
    "DP DEC 2026",
    "Invoice 99/ÄÖÜ",
    "Day centre Dec",
)

SAMPLE_BATCH = FileBatch(
    run_id="run-2026-12-01-northshire",
    council_id="northshire",
    created_at=datetime(2026, 11, 27, 14, 5, 9, tzinfo=UTC),
    processing_date=date(2026, 12, 1),
    originator=COUNCIL,
    instructions=tuple(
        Instruction(
            payment_id=f"pay-{n:04d}",
            end_to_end_id=f"E2E-{n:04d}",
            amount_pence=amount,
            payee=payee,
            reference=reference,
        )
        for n, (payee, amount, reference) in enumerate(zip(_PAYEES, _AMOUNTS, _REFERENCES), start=1)
    ),
    submission_serial="000417",
)

SAMPLE_INSTRUCTED = {i.end_to_end_id: (i.payment_id, i.amount_pence) for i in SAMPLE_BATCH.instructions}
