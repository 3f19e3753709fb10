"""A small year of the demo, through the demo's own stages: the case system's commands (valid and
bad) through `python -m allocation worker` + `relay` into `python -m ledger worker` + `relay`, with the
payment events published beside them. Every valid command is accepted, every bad one gets a coded
rejection (naming its command id) or a dead letter, resends change nothing, no process dies, and the
ledger balances and verifies with only the payment mistakes refused.
"""
from __future__ import annotations

import uuid
from collections import Counter

import pytest
from careruntime.codec import decode
from careruntime.dlq import dlq_topic
from caretools import demo, localstack
from caretools.badinput import COMMAND_MISTAKES, bad_commands
from caretools.generator import generate
from caretools.summary import collect, collect_allocation

from .ledger_harness import LEDGER_TOPICS, read_topic

pytestmark = [pytest.mark.integration, pytest.mark.slow]

COUNCIL, PEOPLE, SEED = "E10000099", 60, 1  # seed 1: two deaths, an ended budget, varied orders
COMMANDS = "allocation.commands.v1"


@pytest.fixture
async def run(stack, fresh_db, topics, tmp_path):
    names = await topics([*LEDGER_TOPICS, COMMANDS, dlq_topic(COMMANDS)], partitions=3)
    run = demo.DemoRun(stack, names, tmp_path, uuid.uuid4().hex[:10], timeout_s=90,
                       allocation_dsn=await fresh_db("allocation"), ledger_dsn=await fresh_db("ledger"))
    try:
        yield run
    finally:
        for proc in run.processes:
            proc.kill()


async def test_a_year_of_commands_and_bad_input_is_accounted_for(stack, run):
    valid = generate(people=PEOPLE, seed=SEED, council_id=COUNCIL, allocation="commands")
    bad = bad_commands(valid, COUNCIL)
    demo.start_services(run)
    for stage in demo.STAGES:
        await stage(run, valid, bad)
    targets = await localstack.record_ends(stack.bootstrap, [run.topics["allocation.events.v1"],
                                                             run.topics["payments.events.v1"]])
    await localstack.wait_consumed(run.ledger_dsn, run.ledger_group, targets, 90)
    run.assert_alive()  # no bad record stopped a process

    alloc = await collect_allocation(run.allocation_dsn, stack.bootstrap, run.topics)
    valid_commands = sum(m.topic == COMMANDS for m in valid)
    mistakes = len(COMMAND_MISTAKES)
    assert alloc["outcomes"] == {"accepted": valid_commands, "rejected": mistakes, "conflict": 5}
    assert alloc["rejections"] == Counter({**Counter(COMMAND_MISTAKES.values()), "DUPLICATE_CONFLICT": 5})
    # 9 undecodable + 2 records that decode but are not allocation commands; 20 exact resends: nothing
    assert alloc["dead_letters"] == {"MALFORMED_JSON": 3, "INVALID_ENVELOPE": 1, "UNKNOWN_TYPE": 3, "INVALID_PAYLOAD": 4}
    assert alloc["events_published"] == alloc["events_emitted"]

    # Each refused command's CommandRejected names it, with the code the mistake was built to provoke.
    rejected = {}
    for record in await read_topic(stack.bootstrap, run.topics["allocation.events.v1"]):
        decoded = decode(record.value)
        if decoded.envelope.type == "allocation.CommandRejected.v1":
            rejected[decoded.payload.command_id] = decoded.payload.reason_code
    assert {k: v for k, v in rejected.items() if k.startswith("mistake-")} == COMMAND_MISTAKES

    ledger = await collect(run.ledger_dsn, stack.bootstrap, run.topics)
    assert ledger["verify"]["ok"], ledger["verify"]["problems"]
    assert ledger["totals"]["debits"] == ledger["totals"]["credits"] > 0
    # The ledger refuses only the payment mistakes and conflicting settlements, nothing the
    # allocation service accepted.
    assert ledger["rejections"] == {"DUPLICATE_CONFLICT": 5, "PAYMENT_AFTER_DEATH": 1, "DUPLICATE_INVOICE": 1,
                                    "UNKNOWN_PAYMENT": 1}
    assert ledger["dead_letters"] == {"MALFORMED_JSON": 1, "INVALID_PAYLOAD": 1}
