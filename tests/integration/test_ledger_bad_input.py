"""Bad input, one kind at a time, into a running ledger (`python -m ledger worker` and `relay`).

Each case sends one record on top of a small posted year and waits until the worker has stored an
offset past it and the relay has drained the outbox. Then: an undecodable record is a dead letter
with its reason and its original bytes; a reused id with changed content is a coded PostingRejected
(on ledger.entries and in processed_events); an exact resend leaves no trace at all. In every case
the journal, chain heads, balances and working state are exactly what they were just before, and
the worker is still alive and answers its liveness probe.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import aiohttp
import orjson
import pytest
import pytest_asyncio
from aiokafka.structs import TopicPartition
from careruntime.codec import content_hash
from caretools.generator import generate
from ledger.service.verify import verify
from prometheus_client.parser import text_string_to_metric_families

from .ledger_harness import (
    ALLOCATION,
    ENTRIES,
    PAYMENTS,
    connect,
    decode_ledger_message,
    dlq_topic,
    envelope_id,
    header,
    module_deployment,
    produce,
    produce_one,
    read_topic,
    snapshot,
)

pytestmark = [pytest.mark.integration]

COUNCIL = "E10000099"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def ledger(stack, tmp_path_factory):
    """A worker and relay that have consumed a small year (4 people), shared by the cases below."""
    async with module_deployment(stack, tmp_path_factory.mktemp("ledger-bad-input")) as run:
        run.base = generate(people=4, seed=1, council_id=COUNCIL)
        run.start()
        await produce(stack, run.base, run.names)
        await run.wait_consumed(timeout_s=60)
        yield run


def _sample(run, type_suffix: str) -> dict:
    return orjson.loads(next(m.value for m in run.base if type_suffix.encode() in m.value))


def _mutated(run, n: str, type_suffix: str = "PersonalBudgetAgreed.v1", *, dumps=orjson.dumps, **changes) -> bytes:
    env = dict(_sample(run, type_suffix), id=f"bad-{n}")
    for path, value in changes.items():
        if path.startswith("data."):
            env["data"] = dict(env["data"], **{path[5:]: value})
        elif value is None:
            env.pop(path)
        else:
            env[path] = value
    return dumps(env)


@dataclass(frozen=True)
class DeadLetterCase:
    topic: str  # logical input topic
    reason: str
    value: object  # bytes, or a callable(run) -> bytes


DEAD_LETTERS = {
    "truncated JSON": DeadLetterCase(ALLOCATION, "MALFORMED_JSON", b'{"specversion": "1.0", "id": '),
    "garbage bytes": DeadLetterCase(ALLOCATION, "MALFORMED_JSON", b"\xff\xfe not json at all"),
    "empty value": DeadLetterCase(ALLOCATION, "MALFORMED_JSON", b""),
    "tombstone (null value)": DeadLetterCase(PAYMENTS, "MALFORMED_JSON", None),
    "JSON array, not an object": DeadLetterCase(ALLOCATION, "MALFORMED_JSON", b"[1, 2, 3]"),
    "JSON string, not an object": DeadLetterCase(PAYMENTS, "MALFORMED_JSON", b'"hello"'),
    "missing councilid": DeadLetterCase(ALLOCATION, "INVALID_ENVELOPE", lambda r: _mutated(r, "1", councilid=None)),
    "missing id": DeadLetterCase(ALLOCATION, "INVALID_ENVELOPE", lambda r: _mutated(r, "2", id=None)),
    "NUL in the subject": DeadLetterCase(  # the journal keeps it, and PostgreSQL text cannot hold NUL
        ALLOCATION, "INVALID_ENVELOPE",  # a new budget: it would post, and its entry would carry the subject
        lambda r: _mutated(r, "10", subject="PB-NUL\x00", **{"data.budget_id": "PB-NUL"})),
    "unknown type": DeadLetterCase(ALLOCATION, "UNKNOWN_TYPE",
                                   lambda r: _mutated(r, "3", type="allocation.BudgetTeleported.v1")),
    "payload: wrong type": DeadLetterCase(ALLOCATION, "INVALID_PAYLOAD",
                                          lambda r: _mutated(r, "4", **{"data.amount_pence": "lots"})),
    "payload: negative money": DeadLetterCase(ALLOCATION, "INVALID_PAYLOAD",
                                              lambda r: _mutated(r, "5", **{"data.amount_pence": -500})),
    "payload: fractional pence": DeadLetterCase(ALLOCATION, "INVALID_PAYLOAD",
                                                lambda r: _mutated(r, "6", **{"data.amount_pence": 12.5})),
    "payload: pence beyond 64 bits": DeadLetterCase(  # orjson writes no such integer: the standard library does
        ALLOCATION, "INVALID_PAYLOAD",
        lambda r: _mutated(r, "9", dumps=lambda env: json.dumps(env).encode(), **{"data.amount_pence": 2**70})),
    "payload: end before start": DeadLetterCase(ALLOCATION, "INVALID_PAYLOAD",
                                                lambda r: _mutated(r, "7", **{"data.end_date": "2026-01-01"})),
    "payments payload: negative money": DeadLetterCase(
        PAYMENTS, "INVALID_PAYLOAD",
        lambda r: _mutated(r, "8", "PaymentSettled.v1", **{"data.amount_pence": -1})),
}


async def _send_and_wait(run, logical_topic: str, key: bytes | None, value: bytes | None):
    """Produce one record; wait until the worker stored an offset past it and the relay drained."""
    meta = await produce_one(run.stack, run.names[logical_topic], key, value)
    await run.wait_consumed(timeout_s=30, targets={TopicPartition(meta.topic, meta.partition): meta.offset + 1})
    return meta


async def _state(run) -> tuple[dict, int]:
    conn = await connect(run.dsn)
    try:
        return await snapshot(conn), len(await read_topic(run.stack.bootstrap, run.names[ENTRIES]))
    finally:
        await conn.close()


async def _assert_alive_and_consistent(run) -> None:
    run.assert_alive()
    port = int(run.env["LEDGER_HEALTH_PORT"])
    timeout = aiohttp.ClientTimeout(total=5)
    async with aiohttp.ClientSession(timeout=timeout) as http, http.get(f"http://127.0.0.1:{port}/healthz") as resp:
        assert resp.status == 200, await resp.text()
    conn = await connect(run.dsn)
    try:
        report = await verify(conn)
        assert report.ok, report.problems
    finally:
        await conn.close()


@pytest.mark.parametrize("case", list(DEAD_LETTERS))
async def test_undecodable_record_becomes_a_dead_letter_and_changes_nothing(ledger, case):
    spec = DEAD_LETTERS[case]
    value = spec.value(ledger) if callable(spec.value) else spec.value
    key = f"bad-key-{case}".encode()
    before, published_before = await _state(ledger)

    meta = await _send_and_wait(ledger, spec.topic, key, value)

    after, published_after = await _state(ledger)
    assert after == before, "a dead letter must not touch journal, heads, balances, outcomes or state"
    assert published_after == published_before, "a dead letter must not publish on ledger.entries"
    dead = [r for r in await read_topic(ledger.stack.bootstrap, ledger.names[dlq_topic(spec.topic)])
            if header(r, "dlq.source.partition") == str(meta.partition)
            and header(r, "dlq.source.offset") == str(meta.offset)]
    assert len(dead) == 1, f"expected one dead letter for {meta.partition}:{meta.offset}, got {len(dead)}"
    (letter,) = dead
    assert header(letter, "dlq.reason") == spec.reason, header(letter, "dlq.detail")
    assert letter.value == value and letter.key == key  # the original bytes, untouched
    assert header(letter, "dlq.source.topic") == ledger.names[spec.topic]
    assert header(letter, "dlq.group") == ledger.group
    assert header(letter, "dlq.detail")
    assert header(letter, "content-type") == "application/cloudevents+json; charset=UTF-8"
    await _assert_alive_and_consistent(ledger)


async def test_exact_resend_is_ignored_without_a_trace(ledger):
    posted = next(m for m in ledger.base if b"PersonalBudgetAgreed" in m.value)
    settled = next(m for m in ledger.base if b"PaymentSettled" in m.value)
    for original in (posted, settled):
        before, published_before = await _state(ledger)
        await _send_and_wait(ledger, original.topic, original.key, original.value)
        after, published_after = await _state(ledger)
        assert after == before, f"resend of {envelope_id(original)} changed the ledger"
        assert published_after == published_before, f"resend of {envelope_id(original)} published something"
    await _assert_alive_and_consistent(ledger)


async def test_reused_id_with_changed_content_is_rejected_as_a_conflict(ledger):
    original = next(m for m in ledger.base if b"PaymentSettled" in m.value)
    env = orjson.loads(original.value)
    env["data"]["bank_ref"] = "BACS-SOMETHING-ELSE"
    changed = orjson.dumps(env)
    ev_id, new_hash = env["id"], content_hash(changed)
    assert new_hash != content_hash(original.value)
    before, published_before = await _state(ledger)

    meta = await _send_and_wait(ledger, original.topic, original.key, changed)

    after, published_after = await _state(ledger)
    for part in ("journal", "heads", "balances", "state"):
        assert after[part] == before[part], f"a conflict changed {part}"
    new_rows = sorted(set(after["processed"]) - set(before["processed"]))
    assert set(before["processed"]) <= set(after["processed"])
    assert len(new_rows) == 1, new_rows
    (row,) = new_rows
    (event_id, row_hash, _, event_type, shard, offset, outcome, entry_id, reason, detail) = row
    assert (event_id, row_hash, outcome, entry_id, reason) == (ev_id, new_hash, "rejected", None, "DUPLICATE_CONFLICT")
    assert (shard, offset) == (f"{meta.topic}:{meta.partition}", meta.offset)
    assert event_type == env["type"] and detail

    assert published_after == published_before + 1
    records = await read_topic(ledger.stack.bootstrap, ledger.names[ENTRIES])
    rejections = []
    for record in records:
        if orjson.loads(record.value)["type"] == "ledger.PostingRejected.v1":
            _, payload = decode_ledger_message(record.value)  # validated against careschemas
            if payload.cause_event_id == ev_id:
                rejections.append(payload)
    assert [(p.reason_code, p.shard, p.cause_type) for p in rejections] == [
        ("DUPLICATE_CONFLICT", shard, env["type"])]

    # The same changed content once more: an exact resend of the conflict, so nothing new at all.
    before, published_before = after, published_after
    await _send_and_wait(ledger, original.topic, original.key, changed)
    after, published_after = await _state(ledger)
    assert (after, published_after) == (before, published_before)
    await _assert_alive_and_consistent(ledger)


async def test_business_mistake_is_rejected_with_its_code_and_changes_no_money(ledger):
    """A well-formed event the rules refuse (here: settling a payment never instructed)."""
    sample = orjson.loads(next(m.value for m in ledger.base if b"PaymentSettled" in m.value))
    env = dict(sample, id="bad-unknown-payment", data=dict(sample["data"], payment_id="NEVER-INSTRUCTED"))
    before, published_before = await _state(ledger)

    await _send_and_wait(ledger, PAYMENTS, b"NEVER-INSTRUCTED", orjson.dumps(env))

    after, published_after = await _state(ledger)
    for part in ("journal", "heads", "balances", "state"):
        assert after[part] == before[part], f"a rejection changed {part}"
    new_rows = sorted(set(after["processed"]) - set(before["processed"]))
    assert [(r[0], r[6], r[8]) for r in new_rows] == [("bad-unknown-payment", "rejected", "UNKNOWN_PAYMENT")]
    assert published_after == published_before + 1
    await _assert_alive_and_consistent(ledger)


async def test_a_posting_too_large_for_the_journal_is_rejected_and_the_worker_goes_on(ledger):
    """Every field validates, but the second settlement of 2^62 pence would leave the council's bank balance
    beyond a bigint. The worker finds that only once the rules have run: it decides the batch again with
    that event refused up front (AMOUNT_OUT_OF_RANGE), instead of failing the batch's write for ever."""
    most, quarter = 2**63 - 1, 2**62
    agreed = _sample(ledger, "PersonalBudgetAgreed.v1")
    day = agreed["data"]["start_date"]

    def envelope(type_name: str, event_id: str, subject: str, **data) -> dict:
        return dict(agreed, id=event_id, type=type_name, subject=subject, correlationid=f"corr-{subject}",
                    data=dict(data, effective_date=day))

    sends = []
    for n in (1, 2):
        budget, payment = f"PB-HUGE-{n}", f"PAY-HUGE-{n}"
        sends += [
            (ALLOCATION, budget, dict(agreed, id=f"huge-agreed-{n}", subject=budget, data=dict(
                agreed["data"], budget_id=budget, person_ref=f"P-HUGE-{n}", amount_pence=most))),
            (PAYMENTS, budget, envelope("payments.PaymentInstructed.v1", f"huge-instructed-{n}", budget,
                                        payment_id=payment, kind="direct_payment", budget_id=budget,
                                        amount_pence=quarter, due_date=day)),
            (PAYMENTS, budget, envelope("payments.PaymentSettled.v1", f"huge-settled-{n}", budget,
                                        payment_id=payment, amount_pence=quarter, budget_id=budget)),
        ]
    for topic, key, env in sends:
        await _send_and_wait(ledger, topic, key.encode(), orjson.dumps(env))

    conn = await connect(ledger.dsn)
    try:
        outcomes = {r["event_id"]: (r["outcome"], r["reason_code"]) for r in await conn.fetch(
            "SELECT event_id, outcome, reason_code FROM processed_events WHERE event_id LIKE 'huge-%'")}
    finally:
        await conn.close()
    assert outcomes == {
        "huge-agreed-1": ("posted", None), "huge-instructed-1": ("posted", None), "huge-settled-1": ("posted", None),
        "huge-agreed-2": ("posted", None), "huge-instructed-2": ("posted", None),
        "huge-settled-2": ("rejected", "AMOUNT_OUT_OF_RANGE")}
    assert (await _batch_failures(ledger)).get("rerun", 0) >= 1
    # ...and it goes on: the held payment is returned, which posts.
    env = envelope("payments.PaymentReturned.v1", "huge-returned-2", "PB-HUGE-2", payment_id="PAY-HUGE-2",
                   amount_pence=quarter, reason="account closed", budget_id="PB-HUGE-2")
    await _send_and_wait(ledger, PAYMENTS, b"PB-HUGE-2", orjson.dumps(env))
    conn = await connect(ledger.dsn)
    try:
        assert await conn.fetchval("SELECT outcome FROM processed_events WHERE event_id = 'huge-returned-2'") == "posted"
    finally:
        await conn.close()
    await _assert_alive_and_consistent(ledger)


async def _batch_failures(run) -> dict[str, float]:
    """The worker's `ledger_batch_failures_total` by kind, from its /metrics."""
    port = int(run.env["LEDGER_HEALTH_PORT"])
    timeout = aiohttp.ClientTimeout(total=5)
    async with aiohttp.ClientSession(timeout=timeout) as http, http.get(f"http://127.0.0.1:{port}/metrics") as resp:
        text = await resp.text()
    return {sample.labels["kind"]: sample.value for family in text_string_to_metric_families(text)
            if family.name == "ledger_batch_failures" for sample in family.samples if sample.name.endswith("_total")}


async def test_resends_after_a_restart_are_refused_by_the_database_then_decided_as_before(ledger):
    """A restarted worker knows no event id yet and decides without reading the processed log (the
    optimistic mode): the database's one-outcome index refuses the resend's second outcome, the batch is
    rolled back and decided again with the look-up. Same result as without the restart."""
    ledger.worker.stop()
    ledger.worker.start()
    posted = [m for m in ledger.base if b"PersonalBudgetAgreed" in m.value][1]
    settled = [m for m in ledger.base if b"PaymentSettled" in m.value][1]
    before, published_before = await _state(ledger)

    await _send_and_wait(ledger, posted.topic, posted.key, posted.value)
    after, published_after = await _state(ledger)
    assert (after, published_after) == (before, published_before), "an exact resend after a restart left a trace"
    assert await _batch_failures(ledger) == {"rerun": 1.0}  # refused once, then decided with the look-up

    env = orjson.loads(settled.value)
    env["data"]["bank_ref"] = "BACS-CHANGED-AFTER-RESTART"
    await _send_and_wait(ledger, settled.topic, settled.key, orjson.dumps(env))
    after, published_after = await _state(ledger)
    for part in ("journal", "heads", "balances", "state"):
        assert after[part] == before[part], f"a conflict changed {part}"
    new_rows = sorted(set(after["processed"]) - set(before["processed"]))
    assert [(r[0], r[6], r[8]) for r in new_rows] == [(env["id"], "rejected", "DUPLICATE_CONFLICT")]
    assert published_after == published_before + 1
    # Within the careful spell after the rerun the worker read the log first: no second rerun.
    assert await _batch_failures(ledger) == {"rerun": 1.0}
    await _assert_alive_and_consistent(ledger)
