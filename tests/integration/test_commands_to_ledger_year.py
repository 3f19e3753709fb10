"""A small year of the demo, through the demo's own stages (demo.STAGES) with all four services: the case
system's commands (valid and bad) through `python -m allocation worker` + `relay`, the year's payments
through `python -m payments worker` + `relay` (DP schedules, invoices, fifteen four-weekly DP and invoice
runs through the payments CLI, their bank files and statements), `python -m ledger worker` + `relay`,
and the reporting stage's projections and audit pack.

Every valid command is accepted, every bad one gets a coded rejection (naming its command id), a hold
with its reason or a dead letter, resends change nothing, no process dies, every instructed payment is
settled or returned (nothing left reserved in the ledger), the ledger balances and verifies with only
the planted payment mistakes refused, and the audit pack's files exist.
"""
from __future__ import annotations

import hashlib
import uuid
from collections import Counter
from pathlib import Path

import asyncpg
import pytest
from careruntime.codec import decode
from careruntime.dlq import dlq_topic
from caretools import demo
from caretools.badinput import COMMAND_MISTAKES, PAYMENTS_DEAD_LETTERS, PAYMENTS_MISTAKES, bad_commands
from caretools.generator import generate

from .ledger_harness import LEDGER_TOPICS, read_topic

pytestmark = [pytest.mark.integration, pytest.mark.slow]

COUNCIL, PEOPLE, SEED = "E10000099", 60, 1  # seed 1: two deaths, an ended budget, varied orders
COMMANDS, PAYMENT_COMMANDS = "allocation.commands.v1", "payments.commands.v1"


@pytest.fixture
async def run(stack, fresh_db, topics, tmp_path):
    names = await topics([*LEDGER_TOPICS, COMMANDS, dlq_topic(COMMANDS), PAYMENT_COMMANDS, dlq_topic(PAYMENT_COMMANDS)],
                         partitions=3)
    tag = uuid.uuid4().hex[:10]
    run = demo.DemoRun(stack, names, tmp_path, tag, timeout_s=120,
                       allocation_dsn=await fresh_db("allocation"), ledger_dsn=await fresh_db("ledger"),
                       payments_dsn=await fresh_db("payments"), reporting_db=f"reporting_demo_t{tag}", return_every=7)
    try:
        yield run
    finally:
        for proc in run.processes:
            proc.kill()
        admin = await asyncpg.connect(stack.dsn("postgres"))
        try:
            for name in (run.reporting_db, run.reporting_db + "_topics"):
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def test_a_year_through_all_four_services_is_accounted_for(stack, run):
    valid = generate(people=PEOPLE, seed=SEED, council_id=COUNCIL, allocation="commands")
    bad = bad_commands(valid, COUNCIL)
    demo.start_services(run)
    for stage in demo.STAGES:
        await stage(run, valid, bad)
    run.assert_alive()  # no bad record stopped a process
    summary = await demo.collect_all(run)

    alloc = summary["allocation"]
    valid_commands = sum(m.topic == COMMANDS for m in valid)
    assert alloc["outcomes"] == {"accepted": valid_commands, "rejected": len(COMMAND_MISTAKES), "conflict": 5}
    assert alloc["rejections"] == Counter({**Counter(COMMAND_MISTAKES.values()), "DUPLICATE_CONFLICT": 5})
    # 9 undecodable + 2 records that decode but are not allocation commands; 20 exact resends: nothing
    assert alloc["dead_letters"] == {"MALFORMED_JSON": 3, "INVALID_ENVELOPE": 1, "UNKNOWN_TYPE": 3, "INVALID_PAYLOAD": 4}
    assert alloc["events_published"] == alloc["events_emitted"]
    rejected = {}
    for record in await read_topic(stack.bootstrap, run.topics["allocation.events.v1"]):
        decoded = decode(record.value)
        if decoded.envelope.type == "allocation.CommandRejected.v1":
            rejected[decoded.payload.command_id] = decoded.payload.reason_code
    assert {k: v for k, v in rejected.items() if k.startswith("mistake-")} == COMMAND_MISTAKES

    await _assert_payments(run, summary["payments"], valid)

    assert summary["verify"]["ok"], summary["verify"]["problems"]
    assert summary["totals"]["debits"] == summary["totals"]["credits"] > 0
    # The ledger refuses only the planted payment mistakes and the settlements resent with a penny
    # more, nothing the allocation or payments service decided.
    assert summary["rejections"] == {"DUPLICATE_CONFLICT": 5, "PAYMENT_AFTER_DEATH": 1, "DUPLICATE_INVOICE": 1,
                                     "UNKNOWN_PAYMENT": 1}
    assert summary["dead_letters"] == {"MALFORMED_JSON": 1, "INVALID_PAYLOAD": 1}

    reporting = summary["reporting"]
    assert reporting["journal_and_topics_agree"] and reporting["ledger_verify_ok"]
    assert reporting["entries"] == summary["entries"]["entries"]
    pack = Path(reporting["audit_pack"])
    assert pack.is_relative_to(run.out) and Path(reporting["zip"]).stat().st_size > 0
    assert len([p for p in pack.iterdir() if p.suffix == ".csv"]) >= 5 and (pack / "manifest.json").exists()


async def _assert_payments(run: demo.DemoRun, p: dict, valid: list) -> None:
    cycles = p["cycles"]
    schedules = sum(b'"payments.DirectPaymentScheduled.v1"' in m.value for m in valid)
    assert sum(p["schedules"].values()) == schedules > 0
    assert cycles["runs"] >= 20 and cycles["self_approval_refused"] == 1
    # Every payment a run instructed was in its statement, settled or returned; the ledger holds nothing.
    assert cycles["statement_settled"] + cycles["statement_returned"] == cycles["payments_instructed"]
    assert cycles["statement_returned"] > 0 and cycles["statement_unmatched"] == cycles["statements"]
    assert {r["status"] for r in p["payments"]} <= {"settled", "returned", "cancelled"}
    assert p["left_reserved"] == 0
    assert p["files"]["bacs18"] >= 10 and p["files"]["pain001"] >= 10
    conn = await asyncpg.connect(run.payments_dsn)
    try:
        for f in await conn.fetch("SELECT file_name, sha256 FROM run_files WHERE council_id = $1", COUNCIL):
            assert hashlib.sha256((run.out / f["file_name"]).read_bytes()).hexdigest() == f["sha256"]
        decided = {r["message_id"]: (r["outcome"], r["reason_code"], r["conflict"]) for r in await conn.fetch(
            "SELECT message_id, outcome, reason_code, conflict FROM processed_messages WHERE message_id = ANY($1) "
            "OR (message_id LIKE 'recv-%' AND conflict)", list(PAYMENTS_MISTAKES))}
        held = dict(await conn.fetch("SELECT invoice_id, hold_reason FROM invoices WHERE status = 'held'"))
    finally:
        await conn.close()
    assert decided["mistake-invoice-number-again"][:2] == ("rejected", "DUPLICATE_INVOICE_NUMBER")
    conflicts = [v for k, v in decided.items() if k.startswith("recv-")]
    assert len(conflicts) == 1 and conflicts[0][2]  # the changed resend; the exact one left no row of its own
    assert held["INV-AFTER-END"] == PAYMENTS_MISTAKES["mistake-invoice-after-end"]
    assert p["dead_letters"] == PAYMENTS_DEAD_LETTERS
    # Every record on payments.commands.v1 was decided once or dead-lettered, but the one exact resend.
    assert p["commands_on_topic"] - sum(p["dead_letters"].values()) - sum(p["outcomes"].values()) == 1
    assert p["refused"]["DUPLICATE_CONFLICT"] == 1 and p["refused"]["SELF_APPROVAL"] == 1

