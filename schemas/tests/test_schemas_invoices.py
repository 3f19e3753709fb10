"""Provider invoices: lines priced as units x rate, never typed in; documents need unique lines."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from careschemas.invoice_events import INVOICE_LINE, MAX_LINES, InvoiceReceived
from careschemas.registry import make_envelope

from schemas_testkit import DROP, data, invalid, valid

RECEIVED = "invoices.InvoiceReceived.v1"
LINE = data(RECEIVED)["lines"][0]


def test_line_cost_is_units_times_rate():
    line = INVOICE_LINE.validate_python({**LINE, "units": 14, "rate_pence": 2450})
    assert line.cost_pence == 34_300


def test_a_line_cannot_carry_an_amount():
    invalid(RECEIVED, lines=[{**LINE, "cost_pence": 34_300}])
    invalid(RECEIVED, lines=[{**LINE, "amount_pence": 34_300}])


@pytest.mark.parametrize("change", [
    {"units": 0}, {"units": 1.5}, {"rate_pence": 0}, {"rate_pence": "2450"}, {"line_no": 0},
    {"period_start": "2025-04-14", "period_end": "2025-04-13"}, {"order_id": DROP}, {"budget_id": "a b"},
])
def test_invalid_lines(change):
    line = {k: v for k, v in {**LINE, **change}.items() if v is not DROP}
    invalid(RECEIVED, lines=[line])


def test_document_totals_and_line_rules():
    invoice = valid(RECEIVED, lines=[LINE, {**LINE, "line_no": 2, "units": 2, "rate_pence": 3000}])
    assert isinstance(invoice, InvoiceReceived)
    assert invoice.total_pence == 14 * 2450 + 2 * 3000
    invalid(RECEIVED, lines=[])
    invalid(RECEIVED, lines=[LINE, LINE])  # duplicate line_no


def test_counts_fit_an_integer_column_and_totals_fit_a_bigint():
    """Units and line numbers are at most 2^31-1 (the services store them as PostgreSQL integers); a
    document's units x rate over all lines at most 2^63-1 pence (the journal's bigints, and what orjson
    writes). Past either, a valid-looking document would fail its consumer's write, and be retried for ever."""
    most_units, most_pence = 2**31 - 1, 2**63 - 1
    invalid(RECEIVED, lines=[{**LINE, "units": most_units + 1}])
    invalid(RECEIVED, lines=[{**LINE, "line_no": most_units + 1}])
    valid(RECEIVED, lines=[{**LINE, "units": most_units, "rate_pence": most_pence // most_units}])
    error = invalid(RECEIVED, lines=[{**LINE, "units": 2, "rate_pence": most_pence // 2 + 1}])
    assert "add up to more than 9223372036854775807 pence" in str(error)
    invalid(RECEIVED, lines=[{**LINE, "units": 1, "rate_pence": most_pence},
                             {**LINE, "line_no": 2, "units": 1, "rate_pence": 1}])


@pytest.mark.parametrize("type_name", ["invoices.InvoiceApproved.v1", "invoices.CreditNoteReceived.v1",
                                       "invoices.ReceiveInvoice.v1", "invoices.ReceiveCreditNote.v1"])
def test_every_lined_document_needs_lines(type_name):
    invalid(type_name, lines=[])
    invalid(type_name, lines=DROP)


def longest_lines(count: int) -> list[dict]:
    """`count` lines with every id at its longest (128 characters) and every number at its widest."""
    def ident(prefix: str, n: int) -> str:
        return f"{prefix}{n}".ljust(128, "x")
    return [{"line_no": 2**31 - 1 - n, "order_id": ident("SO", n), "budget_id": ident("PB", n),
             "period_start": "2026-01-01", "period_end": "2026-01-31", "units": 2**31 - 1, "rate_pence": 1}
            for n in range(count)]


@pytest.mark.parametrize("type_name", ["invoices.InvoiceApproved.v1", "invoices.CreditNoteReceived.v1",
                                       "invoices.ReceiveInvoice.v1", "invoices.ReceiveCreditNote.v1"])
def test_a_document_has_at_most_max_lines(type_name):
    """More lines could make an event too large for Kafka once a compressed command is repeated uncompressed."""
    assert len(valid(type_name, lines=longest_lines(MAX_LINES)).lines) == MAX_LINES
    error = invalid(type_name, lines=longest_lines(MAX_LINES + 1))
    assert f"at most {MAX_LINES} items" in str(error)


def test_the_largest_invoice_event_fits_a_kafka_record_with_room_to_spare():
    """InvoiceApproved repeats the received lines: at MAX_LINES with every field at its longest it stays
    under 512 KiB (the ledger's partition fetch), half of Kafka's default 1 MiB record limit."""
    payload = valid("invoices.InvoiceApproved.v1", invoice_id="I".ljust(128, "x"), provider_id="P".ljust(128, "x"),
                    approved_by="a" * 128, lines=longest_lines(MAX_LINES))
    envelope = make_envelope(payload, id="e".ljust(128, "x"), source="s" * 256, subject="P".ljust(128, "x"),
                             council_id="C" * 32, correlation_id="c".ljust(128, "x"),
                             causation_id="d".ljust(128, "x"), time=datetime(2026, 1, 1, tzinfo=UTC))
    assert len(envelope.model_dump_json()) < 512 * 1024  # compact JSON, as the services write it


def test_invoice_number_limits():
    assert valid(RECEIVED, invoice_number="X" * 35)
    invalid(RECEIVED, invoice_number="X" * 36)
    invalid(RECEIVED, invoice_number="")


def test_holds_rejections_disputes_overpayments():
    for code in ("NO_ORDER", "OVER_PLAN", "FUTURE_PERIOD", "SUSPECTED_DUPLICATE"):
        assert valid("invoices.InvoiceHeld.v1", reason_code=code).reason_code == code
    invalid("invoices.InvoiceRejected.v1", reason_code="rejected")
    invalid("invoices.RejectInvoice.v1", provider_id=DROP)
    invalid("invoices.DisputeInvoice.v1", reason="")
    invalid("invoices.OverpaymentIdentified.v1", amount_pence=0)
    invalid("invoices.RecordOverpayment.v1", amount_pence=49.0)
    invalid("invoices.ApproveInvoice.v1", approved_by=DROP)
    invalid("invoices.InvoiceMatched.v1", extra="x")
