"""Payment and invoice reports on events published by the test (the payments service's own events, as
careschemas defines them): a payment run with its bank file, settlements and a bank return, a duplicate
invoice, a direct payment after a death. They go through the real ledger and the projection; the reports
must show exactly the figures the scenario implies."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from caretools.messages import at_noon, message
from reporting.reports import ReportQuery
from reporting.service.ledger_sync import sync_outcomes
from reporting.service.rebuild import rebuild_from_journal

from .ledger_harness import module_deployment
from .reporting_harness import Databases, feed, pool_for, settings_for

pytestmark = [pytest.mark.integration]
C = "E10000055"
START, END = date(2026, 4, 1), date(2027, 3, 31)
SHA = "ab" * 32


class Script:
    def __init__(self) -> None:
        self.messages, self.seq = [], 0

    def add(self, type_name: str, day: date, **fields) -> None:
        self.seq += 1
        self.messages.append(message(type_name, f"{C}-t{self.seq:04d}", C, at_noon(day, self.seq),
                                     effective_date=day, **fields))


def scenario() -> list:
    s, A, P, I = Script(), "allocation.", "payments.", "invoices."
    before = START - timedelta(days=7)
    s.add(A + "ProviderRegistered.v1", before, provider_id="PR-A", name="Acme Care", provider_type="private")
    s.add(A + "ProviderRegistered.v1", before, provider_id="PR-H", name="Council Homecare", provider_type="in_house")
    for budget, person in (("PB-1", "P-one"), ("PB-2", "P-two")):
        s.add(A + "PersonalBudgetAgreed.v1", START, budget_id=budget, person_ref=person, amount_pence=5_200_000,
              start_date=START, end_date=END)
    for order, provider, rate, units in (("SO-1", "PR-A", 2000, 10), ("SO-2", "PR-H", 2500, 4)):
        s.add(A + "ServiceOrderCommissioned.v1", START, order_id=order, budget_id="PB-1", provider_id=provider,
              service_type="home_care", unit="hour", rate_pence=rate, planned_units_per_week=units,
              payment_basis="invoice", start_date=START, end_date=END)
    s.add(P + "DirectPaymentScheduled.v1", START, schedule_id="S-2", budget_id="PB-2", amount_pence=40_000,
          frequency_weeks=4, first_due_date=date(2026, 5, 1), end_date=END, contribution_mode="netted")
    april = dict(period_start=START, period_end=date(2026, 4, 28))
    line_a = dict(line_no=1, order_id="SO-1", budget_id="PB-1", units=40, rate_pence=2000, **april)
    line_h = dict(line_no=1, order_id="SO-2", budget_id="PB-1", units=16, rate_pence=2500, **april)
    day = date(2026, 4, 30)
    s.add(I + "InvoiceReceived.v1", day, invoice_id="INV-1", provider_id="PR-A", invoice_number="A-100",
          invoice_date=day, lines=[line_a])
    s.add(I + "InvoiceReceived.v1", day, invoice_id="INV-2", provider_id="PR-A", invoice_number="A-100",
          invoice_date=day, lines=[line_a])
    s.add(I + "InvoiceReceived.v1", day, invoice_id="INV-3", provider_id="PR-H", invoice_number="H-1",
          invoice_date=day, lines=[line_h])
    s.add(I + "InvoiceApproved.v1", day, invoice_id="INV-1", provider_id="PR-A", approved_by="bob", lines=[line_a])
    s.add(I + "InvoiceApproved.v1", day, invoice_id="INV-3", provider_id="PR-H", approved_by="bob", lines=[line_h])
    run_day = date(2026, 5, 1)
    s.add(P + "PaymentRunCreated.v1", run_day, run_id="RUN-1", created_by="alice", payment_count=3,
          total_pence=160_000)
    s.add(P + "PaymentInstructed.v1", run_day, payment_id="PAY-1", run_id="RUN-1", kind="invoice",
          provider_id="PR-A", invoice_id="INV-1", amount_pence=80_000, due_date=run_day)
    s.add(P + "PaymentInstructed.v1", run_day, payment_id="PAY-2", run_id="RUN-1", kind="invoice",
          provider_id="PR-H", invoice_id="INV-3", amount_pence=40_000, due_date=run_day)
    s.add(P + "PaymentInstructed.v1", run_day, payment_id="PAY-3", run_id="RUN-1", kind="direct_payment",
          budget_id="PB-2", amount_pence=40_000, due_date=run_day)
    s.add(P + "PaymentRunApproved.v1", run_day, run_id="RUN-1", approved_by="bob")
    s.add(P + "PaymentFileGenerated.v1", run_day, run_id="RUN-1", file_format="bacs18", file_name="RUN-1.bacs",
          sha256=SHA, payment_count=3, total_pence=160_000)
    paid = date(2026, 5, 4)
    s.add(P + "PaymentSettled.v1", paid, payment_id="PAY-1", amount_pence=80_000, provider_id="PR-A")
    s.add(P + "PaymentSettled.v1", paid, payment_id="PAY-3", amount_pence=40_000, budget_id="PB-2")
    s.add(P + "PaymentReturned.v1", paid, payment_id="PAY-2", amount_pence=40_000, reason="account closed",
          provider_id="PR-H")
    died = date(2026, 6, 10)
    s.add(A + "PersonDied.v1", died, budget_id="PB-2", person_ref="P-two", date_of_death=died)
    s.add(P + "PaymentInstructed.v1", date(2026, 6, 20), payment_id="PAY-4", kind="direct_payment",
          budget_id="PB-2", amount_pence=40_000, due_date=date(2026, 6, 26))
    return s.messages


def rows_by(table, key: str) -> dict:
    return {r[key]: r for r in table.as_dicts()}


async def test_payment_and_invoice_reports_show_what_happened(stack, tmp_path):
    async with module_deployment(stack, tmp_path / "ledger") as run:
        run.start()
        await feed(run, scenario())
        dbs = Databases(stack)
        try:
            dsn = await dbs.new()
            pool = await pool_for(dsn)
            try:
                await rebuild_from_journal(settings_for(stack, dsn, run), pool, progress=False)
                await sync_outcomes(run.dsn, pool)
                async with pool.acquire() as conn:
                    from reporting.reports import run_report
                    q = ReportQuery(C, END)
                    tables = {n: await run_report(conn, n, q) for n in (
                        "payment_run_reconciliation", "duplicate_invoices", "payments_after_end_or_death",
                        "provider_type_spend", "planned_delivered_paid", "ascfr_analysis", "dp_balances",
                        "ledger_integrity", "budget_statement")}
                    before_run = await run_report(conn, "payment_run_reconciliation", ReportQuery(C, date(2026, 4, 30)))
            finally:
                await pool.close()
        finally:
            await dbs.drop_all()

    run1 = rows_by(tables["payment_run_reconciliation"], "run_id")["RUN-1"]
    assert (run1["created_by"], run1["approved_by"], run1["file_name"], run1["file_sha256"]) == (
        "alice", "bob", "RUN-1.bacs", SHA)
    assert (run1["payments"], run1["run_total_pence"], run1["file_total_pence"], run1["instructed_pence"],
            run1["settled_pence"], run1["returned_pence"], run1["unreconciled_pence"], run1["status"]) == (
        3, 160_000, 160_000, 160_000, 120_000, 40_000, 0, "reconciled")
    assert before_run.rows == ()  # as at the day before the run, there was no run

    dups = tables["duplicate_invoices"].as_dicts()
    assert [(d["invoice_id"], d["other_invoice_id"], d["reason"]) for d in dups] == [
        ("INV-1", "INV-2", "same invoice number")]

    after = tables["payments_after_end_or_death"].as_dicts()
    assert [(a["payment_ref"], a["closed_by"], a["closed_on"], a["ledger_outcome"]) for a in after] == [
        ("PAY-4", "death", date(2026, 6, 10), "refused: PAYMENT_AFTER_DEATH")]

    spend = {(r["period"], r["provider_type"]): r for r in tables["provider_type_spend"].as_dicts()}
    assert spend[("2026-04", "private")]["spend_pence"] == 80_000
    assert spend[("2026-04", "in_house")]["spend_pence"] == 40_000
    assert spend[("2026-05", "direct_payment")]["spend_pence"] == 40_000
    assert spend[("2026-04", "ALL")]["external_share"] == pytest.approx(80_000 / 120_000)
    assert spend[("2026-04", "ALL")]["meets_target"] == "no"

    orders = rows_by(tables["planned_delivered_paid"], "order_id")
    assert (orders["SO-1"]["delivered_units"], orders["SO-1"]["delivered_pence"], orders["SO-1"]["paid_pence"]) == (
        40, 80_000, 80_000)
    assert (orders["SO-2"]["delivered_units"], orders["SO-2"]["delivered_pence"], orders["SO-2"]["paid_pence"]) == (
        16, 40_000, 0)  # its payment came back from the bank
    assert orders["SO-1"]["planned_units"] == 10 * 365 // 7

    ascfr = rows_by(tables["ascfr_analysis"], "service_type")
    assert (ascfr["home_care"]["own_provision_pence"], ascfr["home_care"]["provision_by_others_pence"]) == (
        40_000, 80_000)
    assert ascfr["direct_payments"]["provision_by_others_pence"] == 40_000

    dp = rows_by(tables["dp_balances"], "budget_id")["PB-2"]
    assert (dp["settled_pence"], dp["returned_pence"], dp["period_amount_pence"]) == (40_000, 0, 40_000)

    statement = rows_by(tables["budget_statement"], "budget_id")
    assert statement["PB-2"]["paid_pence"] == 40_000 and statement["PB-1"]["agreed_pence"] == 5_200_000
    integrity = tables["ledger_integrity"].as_dicts()
    assert [r["item"] for r in integrity if r["status"] == "FAILED"] == []
    assert tables["ledger_integrity"].notes[-1].endswith("yes")
