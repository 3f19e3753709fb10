"""Payments end to end through the real broker and databases: allocation events build the read model;
DP schedules, a one-off and provider invoices (matched, held for every reason, refused) come in as
commands; a payment run is created, refused to its creator, approved, and written as Bacs Standard 18 and
pain.001 files whose digests are in PaymentFileGenerated; a camt.053 statement settles and returns the
payments through the CLI; the ledger (in-process) reserves, posts and releases them and stays balanced."""
from __future__ import annotations

import argparse
import hashlib
from datetime import date

import asyncpg
import orjson
import pytest
from payments.adapters import repository
from payments.domain.policy import PaymentsPolicy
from payments.entrypoints import cli

from caretools.bank_sim import camt053
from tests.integration.payments_harness import (
    ALLOCATION, COMMANDS, COUNCIL, EVENTS, alloc, command, deployment, read_events, send,
)

pytestmark = pytest.mark.integration

D0 = date(2026, 4, 6)
BUDGET = {"person_ref": "P-1", "amount_pence": 5_200_000, "start_date": D0, "end_date": date(2027, 4, 4)}
ORDER = {"order_id": "SO-1", "budget_id": "PB-2", "provider_id": "PR-1", "service_type": "home_care", "unit": "hour",
         "rate_pence": 2_450, "planned_units_per_week": 14, "payment_basis": "invoice", "start_date": D0,
         "end_date": date(2026, 9, 30)}
ALLOCATION_EVENTS = [
    alloc("ProviderRegistered", "a-prov", provider_id="PR-1", name="Meadowbank Home Care Ltd", provider_type="private"),
    alloc("ProviderBankDetailsChanged", "a-bank", provider_id="PR-1", account_ref="tok-PR-1", verified_by="j.okafor"),
    alloc("PersonalBudgetAgreed", "a-pb1", budget_id="PB-1", **BUDGET),
    alloc("PersonalBudgetAgreed", "a-pb2", budget_id="PB-2", **{**BUDGET, "person_ref": "P-2"}),
    alloc("ContributionAssessed", "a-contrib", budget_id="PB-1", weekly_pence=2_500, mode="netted"),
    alloc("DeliveryRouteAllocated", "a-route1", budget_id="PB-1", route="direct_payment", amount_pence=1_300_000,
          holder_ref="tok-PB-1"),
    alloc("DeliveryRouteAllocated", "a-route2", budget_id="PB-2", route="direct_payment", amount_pence=2_080_000,
          holder_ref="tok-PB-2"),
    alloc("ServiceOrderCommissioned", "a-order", **ORDER),
]


def line(order="SO-1", budget="PB-2", start=D0, end=date(2026, 4, 12), units=14, rate=2_450, no=1):
    return {"line_no": no, "order_id": order, "budget_id": budget, "period_start": start, "period_end": end,
            "units": units, "rate_pence": rate}


def invoice(cid, invoice_id, number, lines):
    return command("invoices.ReceiveInvoice", cid, invoice_id=invoice_id, provider_id="PR-1", invoice_number=number,
                   invoice_date=date(2026, 4, 20), lines=lines, effective_date=date(2026, 4, 20))


INTAKE = [
    command("payments.ScheduleDirectPayment", "c-s1", schedule_id="S-1", budget_id="PB-1", amount_pence=100_000,
            frequency_weeks=4, first_due_date=D0, end_date=date(2027, 4, 4), contribution_mode="netted"),
    # no frequency_weeks: the council's policy (2 weeks here) applies
    command("payments.ScheduleDirectPayment", "c-s2", schedule_id="S-2", budget_id="PB-2", amount_pence=80_000,
            first_due_date=D0, end_date=date(2027, 4, 4), contribution_mode="gross"),
    command("payments.MakeOneOffPayment", "c-oo", payment_id="OO-1", budget_id="PB-1", amount_pence=45_000,
            reason="Hoist", effective_date=date(2026, 4, 10)),
    invoice("c-i1", "I-1", "INV-0001", [line()]),
    invoice("c-i2", "I-2", "INV-0002", [line(start=date(2026, 4, 13), end=date(2026, 4, 19), units=20)]),
    invoice("c-i3", "I-3", "INV-0003", [line(order="SO-9")]),
    invoice("c-i4", "I-4", "inv 1", [line(start=date(2026, 4, 13), end=date(2026, 4, 19))]),
    invoice("c-i5", "I-5", "INV-0001", [line(start=date(2026, 4, 13), end=date(2026, 4, 19))]),
    invoice("c-i6", "I-6", "INV-0006", [line(start=date(2026, 4, 13), end=date(2026, 5, 19), units=1)]),
    command("invoices.ApproveInvoice", "c-a1", invoice_id="I-1", provider_id="PR-1", approved_by="finance.a",
            effective_date=date(2026, 4, 21)),
    command("invoices.ApproveInvoice", "c-a3", invoice_id="I-3", provider_id="PR-1", approved_by="finance.a",
            effective_date=date(2026, 4, 21)),
]
RUN_DAY = date(2026, 5, 4)
RUN = [
    command("payments.CreatePaymentRun", "c-run", run_id="RUN-1", created_by="alice", due_on=RUN_DAY,
            effective_date=RUN_DAY),
    command("payments.ApprovePaymentRun", "c-self", run_id="RUN-1", approved_by="alice", effective_date=RUN_DAY),
    command("payments.ApprovePaymentRun", "c-ok", run_id="RUN-1", approved_by="bob", effective_date=RUN_DAY),
    command("payments.GeneratePaymentFile", "c-bacs", run_id="RUN-1", file_format="bacs18", effective_date=RUN_DAY),
    command("payments.GeneratePaymentFile", "c-pain", run_id="RUN-1", file_format="pain001", effective_date=RUN_DAY),
]


def by_type(envelopes, short):
    return [e for e in envelopes if e.type.split(".")[1] == short]


async def ledger_balances(dsn: str) -> dict[str, int]:
    """Balances by account kind, after checking the ledger refused nothing and balances to zero."""
    ledger = await asyncpg.connect(dsn)
    try:
        refused = await ledger.fetch("SELECT event_type, reason_code, detail FROM processed_events "
                                     "WHERE outcome = 'rejected'")
        assert refused == [], refused
        assert await ledger.fetchval("SELECT sum(balance_pence) FROM accounts") == 0
        return dict(await ledger.fetch("SELECT kind, sum(balance_pence) FROM accounts GROUP BY kind"))
    finally:
        await ledger.close()


async def test_invoices_in_run_files_out_statement_in_ledger_balanced(stack, fresh_db, topics, tmp_path, capsys):
    dep = await deployment(stack, fresh_db, topics, tmp_path)
    dep.write_directory(["tok-PB-1", "tok-PB-2", "tok-PR-1"])
    pool = await dep.pool()
    async with pool.acquire() as conn:
        await repository.save_policy(conn, COUNCIL, PaymentsPolicy(dp_frequency_weeks=2))
    try:
        worker = await dep.start_payments()
        await dep.start_ledger()
        await send(stack.bootstrap, dep.names[ALLOCATION], ALLOCATION_EVENTS)
        await dep.payments_settled()
        async with pool.acquire() as conn:
            model = [tuple(r) for r in await conn.fetch("SELECT * FROM budgets ORDER BY budget_id")]
        # The relay delivers at least once: the same allocation events again change nothing.
        await send(stack.bootstrap, dep.names[ALLOCATION], ALLOCATION_EVENTS)
        await dep.payments_settled()
        async with pool.acquire() as conn:
            assert [tuple(r) for r in await conn.fetch("SELECT * FROM budgets ORDER BY budget_id")] == model
        assert worker.ingest.stats["event_duplicate"] == len(ALLOCATION_EVENTS)
        await send(stack.bootstrap, dep.names[COMMANDS], INTAKE)
        await dep.payments_settled()
        await send(stack.bootstrap, dep.names[COMMANDS], RUN)
        await dep.payments_settled()

        events = await read_events(stack.bootstrap, dep.names[EVENTS])
        outcome = {e.causationid: e for e in events}
        holds = {e.data["invoice_id"]: e.data["reason_code"] for e in by_type(events, "InvoiceHeld")}
        assert holds == {"I-2": "OVER_PLAN", "I-3": "NO_ORDER", "I-4": "SUSPECTED_DUPLICATE", "I-6": "FUTURE_PERIOD"}
        assert [e.data["invoice_id"] for e in by_type(events, "InvoiceMatched")] == ["I-1"]
        rejected = {e.data["command_id"]: e.data["reason_code"] for e in by_type(events, "CommandRejected")}
        assert rejected == {"c-i5": "DUPLICATE_INVOICE_NUMBER", "c-a3": "ORDER_REQUIRED", "c-self": "SELF_APPROVAL"}
        scheduled = {e.data["schedule_id"]: e.data["frequency_weeks"] for e in by_type(events, "DirectPaymentScheduled")}
        assert scheduled == {"S-1": 4, "S-2": 2}

        instructed = {e.data["payment_id"]: e.data["amount_pence"] for e in by_type(events, "PaymentInstructed")}
        assert instructed == {"S-1-P000": 90_000, "S-1-P001": 90_000, "S-2-P000": 80_000, "S-2-P001": 80_000,
                              "S-2-P002": 80_000, "INVPAY-I-1": 14 * 2_450}
        created = by_type(events, "PaymentRunCreated")[0].data
        assert created["payment_count"] == 7  # the six above and the one-off (reserved when it was made)
        assert created["total_pence"] == sum(instructed.values()) + 45_000
        assert outcome["c-ok"].type == "payments.PaymentRunApproved.v1"

        files = {e.data["file_format"]: e.data for e in by_type(events, "PaymentFileGenerated")}
        assert set(files) == {"bacs18", "pain001"}
        for meta in files.values():
            data = (dep.out_dir / meta["file_name"]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == meta["sha256"]
            assert meta["payment_count"] == 7 and meta["total_pence"] == created["total_pence"]
        bacs = (dep.out_dir / files["bacs18"]["file_name"]).read_bytes().decode("ascii").splitlines()
        data_records = [r for r in bacs if not r[:3] in ("VOL", "HDR", "UHL", "EOF", "UTL")]
        assert len(data_records) == 7 + 1 and all(len(r) == 100 for r in data_records)  # + the contra record

        # The bank's statement: everything settled but one DP, which comes back; plus a line not ours.
        async with pool.acquire() as conn:
            rows = await conn.fetch("SELECT payment_id, end_to_end_id, paid_pence FROM payments WHERE run_id = 'RUN-1'")
        e2e = {r["payment_id"]: (r["end_to_end_id"], r["paid_pence"]) for r in rows}
        statement = camt053("STMT-1", "GB33BUKB20201555555555", date(2026, 5, 5),
                            settled=[v for k, v in e2e.items() if k != "S-2-P001"],
                            returned=[(*e2e["S-2-P001"], "AC04")], foreign=[("E-NOT-OURS", 1_234)])
        (tmp_path / "stmt.xml").write_bytes(statement)
        args = argparse.Namespace(file=str(tmp_path / "stmt.xml"), council=COUNCIL, timeout=60.0)
        assert await cli.statement_import(dep.settings, args) == 0
        assert await cli.statement_import(dep.settings, args) == 0  # importing it again changes nothing
        (tmp_path / "bad.xml").write_bytes(b"<Document><BkToCstmrStmt>")
        assert await cli.statement_import(dep.settings, argparse.Namespace(
            file=str(tmp_path / "bad.xml"), council=COUNCIL, timeout=5.0)) == 2
        await dep.payments_settled()

        async with pool.acquire() as conn:
            statuses = dict(await conn.fetch("SELECT payment_id, status FROM payments WHERE run_id = 'RUN-1'"))
        assert statuses == {**{k: "settled" for k in e2e}, "S-2-P001": "returned"}
        events = await read_events(stack.bootstrap, dep.names[EVENTS])
        assert len(by_type(events, "PaymentSettled")) == 6 and len(by_type(events, "PaymentReturned")) == 1

        await dep.ledger_settled()
        balances = await ledger_balances(dep.ledger_dsn)
        assert balances["pending"] == 0  # every reservation was posted or released
        assert abs(balances["bank"]) == created["total_pence"] - 80_000

        # A second cycle: a DP surplus recovered by offset, a credit note on a paid invoice clawed back, a
        # schedule suspended over a due date (that period is never paid) and resumed.
        await send(stack.bootstrap, dep.names[COMMANDS], [
            command("payments.SuspendDirectPayment", "c-susp", schedule_id="S-2", budget_id="PB-2",
                    reason="Account under review", effective_date=date(2026, 5, 10)),
            command("payments.ResumeDirectPayment", "c-res", schedule_id="S-2", budget_id="PB-2",
                    reason="Review complete", effective_date=date(2026, 5, 25)),
            command("payments.ResumeDirectPayment", "c-res2", schedule_id="S-2", budget_id="PB-2",
                    reason="Again", effective_date=date(2026, 5, 26)),
            command("payments.ReportDirectPaymentBalance", "c-bal-ok", recovery_id="R-0", budget_id="PB-1",
                    balance_pence=150_000, liabilities_pence=0, effective_date=date(2026, 5, 20)),
            command("payments.ReportDirectPaymentBalance", "c-bal", recovery_id="R-1", budget_id="PB-1",
                    balance_pence=300_000, liabilities_pence=100_000, effective_date=date(2026, 5, 20)),
            command("invoices.ReceiveCreditNote", "c-cn", credit_note_id="CN-1", provider_id="PR-1", invoice_id="I-1",
                    lines=[line(units=2)], effective_date=date(2026, 5, 20)),
            invoice("c-i7", "I-7", "INV-0007", [line(start=date(2026, 4, 20), end=date(2026, 4, 26))]),
            command("invoices.ApproveInvoice", "c-a7", invoice_id="I-7", provider_id="PR-1", approved_by="finance.a",
                    effective_date=date(2026, 5, 21)),
            command("payments.CreatePaymentRun", "c-run2", run_id="RUN-2", created_by="alice", due_on=date(2026, 6, 1),
                    effective_date=date(2026, 6, 1))])
        await dep.payments_settled()
        events = await read_events(stack.bootstrap, dep.names[EVENTS])
        second = {e.causationid: e for e in events if e.causationid in ("c-bal-ok", "c-bal", "c-run2")}
        assert second["c-bal-ok"].data["reason_code"] == "NO_SURPLUS"  # 150,000 is within 8 weeks of 22,500
        answers = {e.causationid: e.type.split(".")[1] for e in events if e.causationid in ("c-susp", "c-res", "c-res2")}
        assert answers == {"c-susp": "DirectPaymentSuspended", "c-res": "DirectPaymentResumed",
                           "c-res2": "CommandRejected"}  # resuming what is not suspended
        assert second["c-bal"].data["amount_pence"] == 200_000 - 8 * 22_500  # S-1 pays 90,000 per 4 weeks
        run2 = {e.data["payment_id"]: e.data["amount_pence"] for e in by_type(events, "PaymentInstructed")
                if e.data["run_id"] == "RUN-2"}
        assert run2 == {"S-1-P002": 90_000 - 20_000, "S-2-P004": 80_000,  # S-2-P003 fell due while suspended
                        "INVPAY-I-7": 14 * 2_450 - 2 * 2_450}
        recovered = [e.data for e in by_type(events, "SurplusRecovered")]
        assert recovered == [{**recovered[0], "recovery_id": "R-1", "amount_pence": 20_000,
                              "offset_payment_id": "S-1-P002"}]
        await dep.ledger_settled()
        balances = await ledger_balances(dep.ledger_dsn)
        assert abs(balances["pending"]) == sum(run2.values())  # reserved, waiting for the bank
        assert balances["recoverable"] == 0

        # The bank dates a settlement and a return before RUN-2 (1 June) instructed them: both refused with
        # their reason, nothing changes; the same lines dated after the run are taken.
        async with pool.acquire() as conn:
            rows = await conn.fetch("SELECT payment_id, end_to_end_id, paid_pence FROM payments WHERE run_id = 'RUN-2'")
        e2e = {r["payment_id"]: (r["end_to_end_id"], r["paid_pence"]) for r in rows}
        for n, day in enumerate((date(2026, 5, 29), date(2026, 6, 3))):
            path = tmp_path / f"stmt2-{n}.xml"
            path.write_bytes(camt053(f"STMT-2-{n}", "GB33BUKB20201555555555", day, settled=[e2e["S-2-P004"]],
                                     returned=[(*e2e["INVPAY-I-7"], "AC04")]))
            capsys.readouterr()
            code = await cli.statement_import(dep.settings, argparse.Namespace(file=str(path), council=COUNCIL,
                                                                                timeout=60.0))
            out = capsys.readouterr().out  # the workers of this process log to it too
            start = out.index("{\n")
            answer = orjson.loads(out[start:out.index("\n}", start) + 2])
            refused = sorted(answer["refused"].values())
            assert (code, refused) == ((1, ["BEFORE_INSTRUCTION"] * 2) if n == 0 else (0, [])), answer
            async with pool.acquire() as conn:
                statuses = dict(await conn.fetch("SELECT payment_id, status FROM payments WHERE run_id = 'RUN-2'"))
            assert (statuses["S-2-P004"], statuses["INVPAY-I-7"]) == (
                ("instructed", "instructed") if n == 0 else ("settled", "returned"))
        events = await read_events(stack.bootstrap, dep.names[EVENTS])
        detail = next(e.data["detail"] for e in by_type(events, "CommandRejected")
                      if e.data["reason_code"] == "BEFORE_INSTRUCTION")
        assert "instructed on 2026-06-01 (run RUN-2)" in detail and "2026-05-29" in detail, detail
        await dep.ledger_settled()
        balances = await ledger_balances(dep.ledger_dsn)
        assert abs(balances["pending"]) == run2["S-1-P002"]  # the one line no statement mentioned
    finally:
        await dep.stop()
