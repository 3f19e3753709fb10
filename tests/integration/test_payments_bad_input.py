"""Bad input to the payments service gets clear coded answers and nothing is lost: malformed invoice
commands go to the dead-letter topic with a reason code, well-formed but unacceptable ones are refused
with a CommandRejected reason, every message sent is accounted for (DLQ or processed_messages); a
malformed or unknown statement file is refused by the CLI with a coded error before anything is sent.
Numbers the service works out from inputs that are each in range (a run's total, a provider's credit,
weeks in credit, a schedule's days at the calendar's end, a hold's detail) stall nothing either."""
from __future__ import annotations

import argparse
import contextlib
from datetime import date, timedelta

import orjson
import pytest
from careschemas.topics import DLQ_REASON_HEADER
from careruntime.consumer import ConsumerSettings
from caretools import localstack
from payments.entrypoints import cli

from tests.integration.payments_harness import (
    ALLOCATION, COMMANDS, COUNCIL, EVENTS, alloc, command, deployment, read_events, read_records, send,
)

pytestmark = pytest.mark.integration

D0 = date(2026, 4, 6)
LINE = {"line_no": 1, "order_id": "SO-1", "budget_id": "PB-1", "period_start": D0, "period_end": date(2026, 4, 12),
        "units": 14, "rate_pence": 2_450}
GOOD = command("invoices.ReceiveInvoice", "c-good", invoice_id="I-1", provider_id="PR-1", invoice_number="INV-1",
               invoice_date=date(2026, 4, 20), lines=[LINE])

# The allocation events GOOD's invoice relies on: provider PR-1, budget PB-1 and order SO-1 that it bills.
PR1_PB1_SO1 = [
    alloc("ProviderRegistered", "a-prov", provider_id="PR-1", name="Meadowbank", provider_type="private"),
    alloc("PersonalBudgetAgreed", "a-pb", budget_id="PB-1", person_ref="P-1", amount_pence=5_000_000,
          start_date=D0, end_date=date(2027, 4, 4)),
    alloc("ServiceOrderCommissioned", "a-so", order_id="SO-1", budget_id="PB-1", provider_id="PR-1",
          service_type="home_care", unit="hour", rate_pence=2_450, planned_units_per_week=14,
          payment_basis="invoice", start_date=D0, end_date=date(2026, 9, 30))]


def mutated(command_id: str, **data_changes) -> tuple[bytes, bytes]:
    doc = orjson.loads(GOOD[1])
    data = {**doc["data"], **data_changes}
    return GOOD[0], orjson.dumps({**doc, "id": command_id, "data": {k: v for k, v in data.items() if v is not None}})


DEAD = {  # command id or label -> (key, value) that must be dead-lettered with this reason
    "MALFORMED_JSON": (b"PR-1", b'{"specversion": "1.0", "id": "c-trunc", '),
    "INVALID_ENVELOPE": (b"PR-1", orjson.dumps({k: v for k, v in orjson.loads(GOOD[1]).items() if k != "councilid"})),
    "UNKNOWN_TYPE": (b"PR-1", orjson.dumps({**orjson.loads(GOOD[1]), "id": "c-type", "type": "invoices.PayMeNow.v1"})),
    "INVALID_PAYLOAD/cost typed in": mutated("c-cost", lines=[{**LINE, "period_start": "2026-04-06",
                                                               "period_end": "2026-04-12", "cost_pence": 999}]),
    "INVALID_PAYLOAD/negative units": mutated("c-neg", lines=[{**LINE, "period_start": "2026-04-06",
                                                               "period_end": "2026-04-12", "units": -3}]),
    "INVALID_PAYLOAD/no number": mutated("c-nonum", invoice_number=None),
    # Valid-looking, but PostgreSQL could not store them, so the batch would fail on every retry (seen for the
    # NUL: CharacterNotInRepertoireError; units go to an `integer` column). The contract refuses both now.
    "INVALID_PAYLOAD/NUL in the number": mutated("c-nul", invoice_number="INV-\x00-9"),
    "INVALID_PAYLOAD/units beyond an integer": mutated("c-units", lines=[{
        **LINE, "period_start": "2026-04-06", "period_end": "2026-04-12", "units": 2**31, "rate_pence": 1}]),
    "INVALID_PAYLOAD/float money": mutated("c-float", lines=[{**LINE, "period_start": "2026-04-06",
                                                              "period_end": "2026-04-12", "rate_pence": 24.5}]),
    "UNKNOWN_TYPE/event on the command topic": (b"PR-1", orjson.dumps({
        **orjson.loads(GOOD[1]), "id": "c-event", "type": "invoices.InvoiceReceived.v1"})),
}
REFUSED = {
    "c-unknown-provider": (command("invoices.ReceiveInvoice", "c-unknown-provider", invoice_id="I-2",
                                   provider_id="PR-404", invoice_number="X-1", invoice_date=date(2026, 4, 20),
                                   lines=[LINE]), "UNKNOWN_PROVIDER"),
    "c-approve-missing": (command("invoices.ApproveInvoice", "c-approve-missing", invoice_id="I-404",
                                  provider_id="PR-1", approved_by="finance.a"), "UNKNOWN_INVOICE"),
    "c-credit-too-much": (command("invoices.ReceiveCreditNote", "c-credit-too-much", credit_note_id="CN-1",
                                  provider_id="PR-1", invoice_id="I-1", lines=[{**LINE, "units": 15}]),
                          "CREDIT_EXCEEDS_INVOICE"),
    "c-settle-unknown": (command("payments.RecordSettlement", "c-settle-unknown", payment_id="PAY-404",
                                 amount_pence=100), "UNKNOWN_PAYMENT"),
    "c-file-no-run": (command("payments.GeneratePaymentFile", "c-file-no-run", run_id="RUN-404",
                              file_format="bacs18"), "UNKNOWN_RUN"),
    "c-good": (mutated("c-good", invoice_number="INV-1-CHANGED"), "DUPLICATE_CONFLICT"),
}
STATEMENTS = {
    b"this is not xml": "malformed_xml",
    b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"><CstmrCdtTrfInitn/></Document>':
        "unknown_message_type",
    (b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt><GrpHdr><MsgId>M</MsgId>'
     b'</GrpHdr><Stmt><Id>S</Id><Ntry><Amt Ccy="GBP">abc</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>'
     b'<BookgDt><Dt>2026-05-05</Dt></BookgDt></Ntry></Stmt></BkToCstmrStmt></Document>'): "invalid_amount",
}


async def test_bad_invoices_are_dead_lettered_or_refused_with_codes_and_nothing_is_lost(stack, fresh_db, topics, tmp_path,
                                                                                      capsys):
    dep = await deployment(stack, fresh_db, topics, tmp_path)
    try:
        await dep.start_payments()
        await send(stack.bootstrap, dep.names[ALLOCATION], PR1_PB1_SO1)
        await dep.payments_settled()
        await send(stack.bootstrap, dep.names[COMMANDS], [GOOD])
        await dep.payments_settled()
        sent = [*DEAD.values(), *(m for m, _ in REFUSED.values()), GOOD]  # GOOD again: an exact resend
        await send(stack.bootstrap, dep.names[COMMANDS], sent)
        await dep.payments_settled()

        dead = await read_records(stack.bootstrap, dep.names[COMMANDS] + ".dlq")
        reasons = sorted(dict(r.headers)[DLQ_REASON_HEADER].decode() for r in dead)
        assert reasons == sorted(label.split("/")[0] for label in DEAD)
        assert sorted(r.value for r in dead) == sorted(v for _, v in DEAD.values())  # kept byte for byte

        events = await read_events(stack.bootstrap, dep.names[EVENTS])
        refused = {e.data["command_id"]: e.data["reason_code"] for e in events
                   if e.type == "payments.CommandRejected.v1"}
        assert refused == {cid: code for cid, (_, code) in REFUSED.items()}
        assert [e.type for e in events if e.causationid == "c-good"] == [
            "invoices.InvoiceReceived.v1", "invoices.InvoiceMatched.v1", "payments.CommandRejected.v1"]

        pool = await dep.pool()
        processed = await pool.fetchval("SELECT count(*) FROM processed_messages WHERE message_type LIKE '%.%' "
                                        "AND message_id LIKE 'c-%'")
        # every command sent is accounted for: dead-lettered, or decided (the exact resend changes nothing)
        assert len(dead) + processed == len(sent) - 1 + 1  # + the first GOOD, - its exact resend

        # Statement files the parser cannot read: coded error, exit 2, nothing sent.
        before = await localstack.record_ends(stack.bootstrap, [dep.names[COMMANDS]])
        capsys.readouterr()
        for n, (data, code) in enumerate([*STATEMENTS.items(), (None, "STATEMENT_UNREADABLE")]):
            path = tmp_path / f"bad-{n}.xml"
            if data is not None:
                path.write_bytes(data)
            assert await cli.statement_import(dep.settings, argparse.Namespace(
                file=str(path), council=COUNCIL, timeout=5.0)) == 2
            answer = orjson.loads(capsys.readouterr().out)
            assert answer["error"] == code and answer["detail"], answer
        assert await localstack.record_ends(stack.bootstrap, [dep.names[COMMANDS]]) == before
    finally:
        await dep.stop()


async def test_commands_read_ahead_of_their_budgets_wait_for_them_and_unknown_ones_are_refused(stack, fresh_db, topics,
                                                                                            tmp_path):
    """Both topics are full before the worker starts, so it reads schedules of budgets whose events are
    still behind on the allocation topic: they wait (are deferred) rather than being refused."""
    dep = await deployment(stack, fresh_db, topics, tmp_path)
    people = 600
    try:
        await send(stack.bootstrap, dep.names[ALLOCATION], [
            alloc("PersonalBudgetAgreed", f"a-{n}", budget_id=f"PB-{n}", person_ref=f"P-{n}", amount_pence=2_000_000,
                  start_date=D0, end_date=date(2027, 4, 4)) for n in range(people)])
        schedules = [command("payments.ScheduleDirectPayment", f"c-s{n}", schedule_id=f"S-{n}", budget_id=f"PB-{n}",
                             amount_pence=100_000, frequency_weeks=4, first_due_date=D0, end_date=date(2027, 4, 4),
                             contribution_mode="gross") for n in range(people)]
        await send(stack.bootstrap, dep.names[COMMANDS], [*schedules, command(
            "payments.ScheduleDirectPayment", "c-nobody", schedule_id="S-X", budget_id="PB-NOBODY",
            amount_pence=100_000, frequency_weeks=4, first_due_date=D0, end_date=date(2027, 4, 4),
            contribution_mode="gross")])
        worker = await dep.start_payments(consumer_settings=ConsumerSettings(
            max_records=50, fetch_timeout_ms=100, retry_backoff_s=0.05, deferred_retry_s=0.05,
            kafka_options={"max_partition_fetch_bytes": 16 * 1024}))
        await dep.payments_settled()
        pool = await dep.pool()
        outcomes = dict(await pool.fetch("SELECT message_id, coalesce(reason_code, outcome) FROM processed_messages "
                                         "WHERE message_id LIKE 'c-%'"))
        assert outcomes == {**{f"c-s{n}": "accepted" for n in range(people)}, "c-nobody": "UNKNOWN_BUDGET"}
        assert worker.ingest.stats["command_deferred"] > 0  # some were read before their budget
    finally:
        await dep.stop()


async def test_a_council_whose_stored_policy_is_not_valid_gets_coded_rejections(stack, fresh_db, topics, tmp_path):
    """A policy row written by hand that `policy` would refuse: that council's commands are refused
    POLICY_INVALID (nothing stalls); once the row is fixed, a command sent again under a new id is decided."""
    dep = await deployment(stack, fresh_db, topics, tmp_path)
    try:
        pool = await dep.pool()
        await pool.execute("INSERT INTO council_policies (council_id, settings) VALUES ($1, $2::jsonb)",
                           COUNCIL, '{"timer_lead_days": 90}')  # out of range: `policy` refuses it
        await dep.start_payments()
        await send(stack.bootstrap, dep.names[ALLOCATION], PR1_PB1_SO1)
        await send(stack.bootstrap, dep.names[COMMANDS], [GOOD])
        await dep.payments_settled()
        events = await read_events(stack.bootstrap, dep.names[EVENTS])
        [refused] = [e.data for e in events if e.causationid == "c-good"]
        assert refused["reason_code"] == "POLICY_INVALID" and "timer_lead_days" in refused["detail"]

        await pool.execute("UPDATE council_policies SET settings = '{}'::jsonb WHERE council_id = $1", COUNCIL)
        await send(stack.bootstrap, dep.names[COMMANDS], [mutated("c-again")])
        await dep.payments_settled()
        events = await read_events(stack.bootstrap, dep.names[EVENTS])
        assert next(e.type for e in events if e.causationid == "c-again") == "invoices.InvoiceReceived.v1"
    finally:
        await dep.stop()


# Sums the payments service computes from inputs that are each in range (each at most 2^63 - 1 pence)
# but together are not: before the fix each one failed its batch on every retry (the partition stalled).
HALF = 2**62  # two of these are 2^63, one more than a bigint (and the contract's Pence) holds
PB2 = alloc("PersonalBudgetAgreed", "a-pb2", budget_id="PB-2", person_ref="P-2", amount_pence=5_000_000,
            start_date=D0, end_date=date(2027, 4, 4))


async def _decided(dep, *command_ids: str) -> dict[str, str]:
    """command id -> accepted or its reason code, once the worker has consumed everything sent (a stalled
    partition times out here)."""
    await dep.payments_settled(timeout_s=30)
    pool = await dep.pool()
    return dict(await pool.fetch("SELECT message_id, coalesce(reason_code, outcome) FROM processed_messages "
                                 "WHERE message_id = ANY($1)", list(command_ids)))


@contextlib.asynccontextmanager
async def _worker_after(stack, fresh_db, topics, tmp_path, allocation_events: list):
    """A payments worker that has read `allocation_events`; stopped afterwards."""
    dep = await deployment(stack, fresh_db, topics, tmp_path)
    try:
        await dep.start_payments()
        await send(stack.bootstrap, dep.names[ALLOCATION], allocation_events)
        await dep.payments_settled()
        yield dep
    finally:
        await dep.stop()


async def test_a_run_whose_total_would_pass_64_bits_leaves_the_rest_due_for_the_next_run(stack, fresh_db, topics,
                                                                                       tmp_path):
    async with _worker_after(stack, fresh_db, topics, tmp_path, PR1_PB1_SO1) as dep:
        await send(stack.bootstrap, dep.names[COMMANDS], [command(
            "payments.MakeOneOffPayment", f"c-oo{n}", payment_id=f"OO-{n}", budget_id="PB-1", amount_pence=HALF,
            reason="equipment", effective_date=D0) for n in (1, 2)])
        assert await _decided(dep, "c-oo1", "c-oo2") == {"c-oo1": "accepted", "c-oo2": "accepted"}
        for n in (1, 2):
            await send(stack.bootstrap, dep.names[COMMANDS], [command(
                "payments.CreatePaymentRun", f"c-run{n}", run_id=f"RUN-{n}", created_by="finance.a",
                due_on=date(2026, 4, 10))])
            assert await _decided(dep, f"c-run{n}") == {f"c-run{n}": "accepted"}
        created = {e.data["run_id"]: (e.data["payment_count"], e.data["total_pence"])
                   for e in await read_events(stack.bootstrap, dep.names[EVENTS])
                   if e.type == "payments.PaymentRunCreated.v1"}
        assert created == {"RUN-1": (1, HALF), "RUN-2": (1, HALF)}  # the second one-off waited for RUN-2


async def test_a_balance_of_more_weeks_in_credit_than_a_count_holds_is_refused(stack, fresh_db, topics, tmp_path):
    async with _worker_after(stack, fresh_db, topics, tmp_path, [PB2]) as dep:
        await send(stack.bootstrap, dep.names[COMMANDS], [command(
            "payments.ScheduleDirectPayment", "c-penny", schedule_id="S-1", budget_id="PB-2", amount_pence=1,
            frequency_weeks=1, first_due_date=D0, end_date=date(2027, 4, 4), contribution_mode="gross")])
        assert await _decided(dep, "c-penny") == {"c-penny": "accepted"}
        await send(stack.bootstrap, dep.names[COMMANDS], [command(  # 2^40 weeks of 1p a week in credit
            "payments.ReportDirectPaymentBalance", "c-rich", recovery_id="R-1", budget_id="PB-2",
            balance_pence=2**40, liabilities_pence=0), command(
            "payments.ReportDirectPaymentBalance", "c-after", recovery_id="R-2", budget_id="PB-2",
            balance_pence=100, liabilities_pence=0)])  # 100 weeks of 1p: 92p over 8 weeks
        assert await _decided(dep, "c-rich", "c-after") == {"c-rich": "AMOUNT_OUT_OF_RANGE", "c-after": "accepted"}


async def test_a_credit_note_that_would_take_a_providers_credit_past_64_bits_is_refused(stack, fresh_db, topics,
                                                                                       tmp_path):
    huge = {**LINE, "units": 1, "rate_pence": HALF}  # held RATE_MISMATCH; approved by a person anyway
    async with _worker_after(stack, fresh_db, topics, tmp_path, PR1_PB1_SO1) as dep:
        for n in (1, 2):  # each invoice paid in its own run: the provider is owed 2^62 twice
            await send(stack.bootstrap, dep.names[COMMANDS], [command(
                "invoices.ReceiveInvoice", f"c-inv{n}", invoice_id=f"I-{n}", provider_id="PR-1",
                invoice_number=f"BIG-{n}", invoice_date=date(2026, 4, 20), lines=[{**huge, "line_no": n}]), command(
                "invoices.ApproveInvoice", f"c-ok{n}", invoice_id=f"I-{n}", provider_id="PR-1", approved_by="finance.a",
                effective_date=date(2026, 4, 20))])
            await dep.payments_settled(timeout_s=30)
            await send(stack.bootstrap, dep.names[COMMANDS], [command(
                "payments.CreatePaymentRun", f"c-run{n}", run_id=f"RUN-{n}", created_by="finance.a",
                due_on=date(2026, 4, 20))])
            assert await _decided(dep, f"c-inv{n}", f"c-ok{n}", f"c-run{n}") == {
                f"c-inv{n}": "accepted", f"c-ok{n}": "accepted", f"c-run{n}": "accepted"}
        await send(stack.bootstrap, dep.names[COMMANDS], [command(
            "invoices.ReceiveCreditNote", f"c-cn{n}", credit_note_id=f"CN-{n}", provider_id="PR-1",
            invoice_id=f"I-{n}", lines=[{**huge, "line_no": n}]) for n in (1, 2)])
        assert await _decided(dep, "c-cn1", "c-cn2") == {"c-cn1": "accepted", "c-cn2": "AMOUNT_OUT_OF_RANGE"}
        pool = await dep.pool()
        assert await pool.fetchval("SELECT credit_pence FROM provider_credits WHERE provider_id = 'PR-1'") == HALF


async def test_a_run_dated_at_the_calendars_end_makes_due_what_it_can_and_stalls_nothing(stack, fresh_db, topics,
                                                                                        tmp_path):
    """A schedule in the calendar's last weeks: its next period would end beyond 9999-12-31, a date Python
    cannot make (the run's day-by-day arithmetic failed the batch on every retry)."""
    last = date(9999, 12, 30)  # the allocation service refuses 9999-12-31 itself (allocation.adapters.storable)
    async with _worker_after(stack, fresh_db, topics, tmp_path, [alloc(
            "PersonalBudgetAgreed", "a-pb3", budget_id="PB-3", person_ref="P-3", amount_pence=5_000_000,
            start_date=D0, end_date=last)]) as dep:
        await send(stack.bootstrap, dep.names[COMMANDS], [command(
            "payments.ScheduleDirectPayment", "c-late", schedule_id="S-3", budget_id="PB-3", amount_pence=1_000,
            frequency_weeks=1, first_due_date=date(9999, 12, 17), end_date=date(9999, 12, 31),
            contribution_mode="gross")])
        assert await _decided(dep, "c-late") == {"c-late": "accepted"}
        await send(stack.bootstrap, dep.names[COMMANDS], [command(
            "payments.CreatePaymentRun", "c-end", run_id="RUN-END", created_by="finance.a",
            due_on=date(9999, 12, 31))])
        assert await _decided(dep, "c-end") == {"c-end": "accepted"}
        pool = await dep.pool()  # 12-17..23 and 12-24..30 end by the budget's end; 12-31 would end in year 10000
        assert [r["period"] for r in await pool.fetch("SELECT period FROM payments WHERE run_id = 'RUN-END' "
                                                      "ORDER BY period")] == [0, 1]
        assert await pool.fetchval("SELECT status FROM schedules WHERE schedule_id = 'S-3'") == "finished"


async def test_a_hold_naming_more_rate_changes_than_a_detail_holds_stalls_nothing(stack, fresh_db, topics, tmp_path):
    """A line spanning 150 daily variations of its order at a rate none of them has: the RATE_MISMATCH hold
    named every span, more than InvoiceHeld's 2,000-character detail, so the handler's event failed validation
    and the batch failed on every retry."""
    variations = [alloc("ServiceOrderVaried", f"a-var{k}", order_id="SO-1", budget_id="PB-1", rate_pence=2_450 + k,
                        planned_units_per_week=14, end_date=date(2026, 9, 30), effective_date=D0 + timedelta(days=k + 1))
                  for k in range(150)]
    async with _worker_after(stack, fresh_db, topics, tmp_path, PR1_PB1_SO1 + variations) as dep:
        await send(stack.bootstrap, dep.names[COMMANDS], [command(
            "invoices.ReceiveInvoice", "c-spans", invoice_id="I-S", provider_id="PR-1", invoice_number="SPANS-1",
            invoice_date=date(2026, 9, 30), lines=[{**LINE, "period_end": date(2026, 9, 10), "units": 1,
                                                     "rate_pence": 9_999}]), GOOD])
        assert await _decided(dep, "c-spans", "c-good") == {"c-spans": "accepted", "c-good": "accepted"}
        held = [e.data for e in await read_events(stack.bootstrap, dep.names[EVENTS])
                if e.type == "invoices.InvoiceHeld.v1" and e.data["invoice_id"] == "I-S"]
        assert [h["reason_code"] for h in held] == ["RATE_MISMATCH"]
        assert "(and 143 more changes to 2026-09-10)" in held[0]["detail"] and len(held[0]["detail"]) <= 2_000


@pytest.mark.parametrize(("directory", "detail"), [
    ("acct,Jos\xe9".encode("latin-1"), "not_utf8"),  # a council's spreadsheet saved as Windows-1252
    (b"account_ref,name,sort_code,account_number,iban,bic\nP-1," + b"J" * 200_000 + b",200000,55779911,,\n",
     "malformed_csv"),  # a field beyond the csv module's limit
])
async def test_a_bank_directory_that_is_not_utf8_csv_refuses_the_file_and_stalls_nothing(
        stack, fresh_db, topics, tmp_path, directory, detail):
    """The worker reads the bank directory when it writes a run's file; a UnicodeDecodeError or csv.Error
    from it was neither of the errors the handler turns into BANK_DIRECTORY_INVALID, so the command's batch
    failed on every retry and the commands behind it on its partition waited."""
    async with _worker_after(stack, fresh_db, topics, tmp_path, PR1_PB1_SO1) as dep:
        dep.out_dir.mkdir(parents=True, exist_ok=True)
        (dep.out_dir / "directory.csv").write_bytes(directory)
        await send(stack.bootstrap, dep.names[COMMANDS], [command(
            "payments.MakeOneOffPayment", "c-oo", payment_id="OO-1", budget_id="PB-1", amount_pence=1_000,
            reason="equipment", effective_date=D0), command(
            "payments.CreatePaymentRun", "c-run", run_id="RUN-1", created_by="finance.a", due_on=date(2026, 4, 10)),
            command("payments.ApprovePaymentRun", "c-approve", run_id="RUN-1", approved_by="finance.b"),
            command("payments.GeneratePaymentFile", "c-file", run_id="RUN-1", file_format="bacs18"),
            command("payments.GeneratePaymentFile", "c-after", run_id="RUN-404", file_format="bacs18")])
        assert await _decided(dep, "c-oo", "c-run", "c-approve", "c-file", "c-after") == {
            "c-oo": "accepted", "c-run": "accepted", "c-approve": "accepted", "c-file": "BANK_DIRECTORY_INVALID",
            "c-after": "UNKNOWN_RUN"}
        rejected = [e.data["detail"] for e in await read_events(stack.bootstrap, dep.names[EVENTS])
                    if e.type == "payments.CommandRejected.v1" and e.data["command_id"] == "c-file"]
        assert len(rejected) == 1 and rejected[0].startswith(detail)
