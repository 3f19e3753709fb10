"""The payments stage of the demo, as demo.py calls it, on the demo generator's allocation events: the
council CLI (`python -m payments run create|approve|export`, `statement import`, as child processes)
makes a DP run (Bacs18) and an invoice run (pain.001), refuses the creator's own approval, imports the
bank's statement, and the ledger ends with every payment settled or returned."""
from __future__ import annotations

import hashlib

import asyncpg
import pytest
from caretools import localstack
from caretools.demo_payments import payments_stage
from caretools.generator import generate

from tests.integration.payments_harness import deployment

pytestmark = pytest.mark.integration

COUNCIL = "E10000099"


async def test_the_demo_stage_runs_both_runs_through_the_cli_and_the_ledger_settles(stack, fresh_db, topics, tmp_path):
    dep = await deployment(stack, fresh_db, topics, tmp_path)
    try:
        await dep.start_ledger()
        allocation = [m for m in generate(people=60, council_id=COUNCIL, allocation="events")
                      if m.topic == "allocation.events.v1"]
        await localstack.produce(stack.bootstrap, allocation, dep.names)
        out = tmp_path / "out"
        summary = await payments_stage(stack, topics=dep.names, payments_dsn=dep.payments_dsn, council=COUNCIL,
                                       out_dir=out, log_dir=tmp_path / "logs", timeout_s=180, group=dep.group,
                                       dp_budgets=20, invoices=12, return_every=5)
        dp, inv = summary["dp_run"], summary["invoice_run"]
        assert [dp["create"]["exit_code"], dp["approve"]["exit_code"], dp["export"]["exit_code"]] == [0, 0, 0]
        assert (dp["self_approval"]["exit_code"], dp["self_approval"]["reason_code"]) == (1, "SELF_APPROVAL")
        assert [inv["create"]["exit_code"], inv["approve"]["exit_code"], inv["export"]["exit_code"]] == [0, 0, 0]
        runs = {r["run_id"]: r for r in summary["runs"]}
        assert runs["DEMO-DP-RUN"]["file_format"] == "bacs18" and runs["DEMO-INV-RUN"]["file_format"] == "pain001"
        for run in runs.values():
            assert hashlib.sha256((out / run["file_name"]).read_bytes()).hexdigest() == run["sha256"]
        assert summary["invoices_held"] == {"OVER_PLAN": 1, "SUSPECTED_DUPLICATE": 1}
        instructed = sum(r["payment_count"] for r in runs.values())
        statement = summary["statement"]
        assert statement["exit_code"] == 0 and statement["refused"] == {}
        assert statement["settled"] + statement["returned"] == instructed and statement["returned"] > 0
        assert [u["reason"] for u in statement["unmatched"]] == ["unknown_end_to_end_id"]
        assert set(summary["payments"]) <= {"direct_payment/settled", "direct_payment/returned",
                                            "invoice/settled", "invoice/returned"}

        await dep.ledger_settled(timeout_s=180)
        ledger = await asyncpg.connect(dep.ledger_dsn)
        try:
            assert await ledger.fetch("SELECT reason_code, count(*) FROM processed_events WHERE outcome = 'rejected' "
                                      "AND (event_type LIKE 'payments.%' OR event_type LIKE 'invoices.%') GROUP BY 1") == []
            assert await ledger.fetchval("SELECT sum(balance_pence) FROM accounts WHERE kind = 'pending'") == 0
        finally:
            await ledger.close()
    finally:
        await dep.stop()
