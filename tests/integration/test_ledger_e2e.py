"""The ledger end to end: a small synthetic year with bad input mixed in goes through the real broker
into `python -m ledger worker` and out through `python -m ledger relay`; then the journal, the
outcome log, the dead-letter topics and ledger.entries must account for every message exactly once."""
from __future__ import annotations

from collections import Counter

import orjson
import pytest
import pytest_asyncio
from careruntime.codec import DecodeError, content_hash, decode
from careschemas.envelope import Envelope
from careschemas.ledger_events import EntryPosted, PostingRejected
from careschemas.topics import key_fields
from caretools.badinput import bad_messages
from caretools.generator import generate
from ledger.service.verify import verify
from pydantic import ValidationError

from .ledger_harness import (
    ALLOCATION,
    ENTRIES,
    PAYMENTS,
    LedgerRun,
    connect,
    decode_ledger_message,
    dlq_topic,
    envelope_id,
    header,
    ledger_runs,
    ledger_topics,
    module_deployment,
    produce,
    read_topic,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]
__all__ = ["ledger_runs"]  # the fixture, imported for pytest

COUNCIL = "E10000099"
PEOPLE, SEED = 80, 1  # seed 1 has deaths, so the payment-after-death mistake is in the bad input
# The dead-letter reason of each undecodable message of caretools.badinput, in its order. (Its comment
# calls "[1, 2, 3]" INVALID_ENVELOPE; careruntime.codec, like careschemas, says MALFORMED_JSON: a JSON
# document that is not an object is not a message.)
DEAD_LETTER_REASONS = ["MALFORMED_JSON"] * 3 + ["INVALID_ENVELOPE", "UNKNOWN_TYPE"] + ["INVALID_PAYLOAD"] * 4
BUSINESS_MISTAKES = {
    "mistake-after-death": "PAYMENT_AFTER_DEATH",
    "mistake-overspend": "INSUFFICIENT_BUDGET",
    "mistake-invoice-twice": "DUPLICATE_INVOICE",
    "mistake-unknown-payment": "UNKNOWN_PAYMENT",
}


def classify(valid, bad):
    """Split the bad input the way badinput builds it: undecodable, exact resends, conflicts, mistakes."""
    valid_hash = {envelope_id(m): content_hash(m.value) for m in valid}
    undecodable, resends, conflicts, mistakes = [], [], [], []
    for m in bad:
        try:
            h = content_hash(m.value)
            ev_id = envelope_id(m)
            decode(m.value)
        except DecodeError:
            undecodable.append(m)
            continue
        if ev_id in valid_hash:
            (resends if valid_hash[ev_id] == h else conflicts).append(m)
        else:
            mistakes.append(m)
    return valid_hash, undecodable, resends, conflicts, mistakes


async def test_a_small_year_with_bad_input_is_accounted_for_exactly_once(stack, fresh_db, topics, ledger_runs, tmp_path):
    valid = generate(people=PEOPLE, seed=SEED, council_id=COUNCIL)
    bad = bad_messages(valid, COUNCIL)
    valid_hash, undecodable, resends, conflicts, mistakes = classify(valid, bad)
    assert (len(undecodable), len(resends), len(conflicts), len(mistakes)) == (9, 20, 5, 4)
    assert {envelope_id(m) for m in mistakes} == set(BUSINESS_MISTAKES)

    names = await ledger_topics(topics)
    run = LedgerRun(stack, await fresh_db("ledger"), names, tmp_path)
    ledger_runs.append(run)
    run.start()
    # Produced while the ledger runs: payments may arrive before the budgets they name are read.
    await produce(stack, valid + bad, names)
    await run.wait_consumed(timeout_s=90)
    run.assert_alive()

    conn = await connect(run.dsn)
    try:
        report = await verify(conn)
        assert report.ok, report.problems
        assert report.entries > 0
        trial = await conn.fetchval("SELECT sum(balance_pence) FROM accounts")
        assert trial == 0
        debits, credits = await conn.fetchrow(
            "SELECT sum(debit_pence), sum(credit_pence) FROM entry_lines")
        assert debits == credits and debits > 0

        rows = await conn.fetch("SELECT event_id, content_hash, outcome, entry_id, reason_code FROM processed_events")
        entries = await conn.fetch("SELECT entry_id, shard, shard_seq, cause_event_id, accounts, debits, credits, "
                                   "prev_hash, hash FROM journal_entries")
        offsets = await run.stored_offsets(conn)
    finally:
        await conn.close()

    # Every valid event is accounted for exactly once, under its own content hash.
    per_id = Counter(r["event_id"] for r in rows)
    by_key = {(r["event_id"], r["content_hash"]): r for r in rows}
    assert len(by_key) == len(rows)
    missing = [i for i, h in valid_hash.items() if (i, h) not in by_key]
    assert not missing, f"{len(missing)} valid events not in processed_events, e.g. {missing[:5]}"
    conflict_ids = {envelope_id(m) for m in conflicts}
    expected_per_id = {i: 1 + (i in conflict_ids) for i in valid_hash} | {i: 1 for i in BUSINESS_MISTAKES}
    assert dict(per_id) == expected_per_id  # nothing else: dead letters and resends leave no row
    assert len(rows) == len(valid) + len(conflicts) + len(mistakes)

    # Exact resends were ignored, not applied twice: one outcome row (checked above), at most one entry.
    per_cause = Counter(e["cause_event_id"] for e in entries)
    assert max(per_cause.values()) == 1
    for m in resends:
        assert per_id[envelope_id(m)] == 1

    # Reused ids with changed content: refused as conflicts, the original outcome kept.
    for m in conflicts:
        ev_id, h = envelope_id(m), content_hash(m.value)
        assert by_key[(ev_id, h)]["outcome"] == "rejected"
        assert by_key[(ev_id, h)]["reason_code"] == "DUPLICATE_CONFLICT"
        assert by_key[(ev_id, valid_hash[ev_id])]["reason_code"] != "DUPLICATE_CONFLICT"

    # Business mistakes: refused with their reason codes, no entry.
    for ev_id, code in BUSINESS_MISTAKES.items():
        (row,) = [r for r in rows if r["event_id"] == ev_id]
        assert (row["outcome"], row["reason_code"], row["entry_id"]) == ("rejected", code, None), dict(row)

    # The generator's year itself is clean: every valid event posted or noted (none refused).
    refused = Counter(r["reason_code"] for r in rows
                      if r["outcome"] == "rejected" and (r["event_id"], r["content_hash"]) in valid_hash.items())
    assert not refused, f"valid events refused: {refused}"
    posted = [r for r in rows if r["outcome"] == "posted"]
    assert {r["entry_id"] for r in posted} == {e["entry_id"] for e in entries}

    # Dead letters: exactly the undecodable messages, original bytes and key, with the reason.
    dead = await read_topic(stack.bootstrap, names[dlq_topic(ALLOCATION)])
    assert await read_topic(stack.bootstrap, names[dlq_topic(PAYMENTS)]) == []
    assert sorted(r.value for r in dead) == sorted(m.value for m in undecodable)
    assert {r.value: header(r, "dlq.reason") for r in dead} == {
        m.value: reason for m, reason in zip(undecodable, DEAD_LETTER_REASONS, strict=True)}
    for r in dead:
        assert r.key == b"bad"
        assert header(r, "dlq.source.topic") == names[ALLOCATION]
        assert header(r, "dlq.group") == run.group
        source = (header(r, "dlq.source.partition"), header(r, "dlq.source.offset"))
        assert all(v is not None and v.isdigit() for v in source)
        assert header(r, "dlq.detail")

    # ledger.entries: one message per entry and one per rejection, each the journal's own data.
    published = await read_topic(stack.bootstrap, names[ENTRIES])
    rejections = [r for r in rows if r["outcome"] == "rejected"]
    assert len(published) == len(entries) + len(rejections)
    by_entry = {e["entry_id"]: e for e in entries}
    kinds: Counter = Counter()
    posted_ids, rejected_causes = Counter(), Counter()
    for record in published:
        doc = orjson.loads(record.value)
        envelope = Envelope.model_validate(doc)  # a valid CloudEvents envelope by careschemas
        kinds[envelope.type] += 1
        data = doc["data"]
        if envelope.type == "ledger.EntryPosted.v1":
            e = by_entry[data["entry_id"]]
            posted_ids[data["entry_id"]] += 1
            lines = [(ln["account"], ln["debit_pence"], ln["credit_pence"]) for ln in data["lines"]]
            assert lines == list(zip(e["accounts"], e["debits"], e["credits"], strict=True))
            assert sum(d for _, d, _ in lines) == sum(c for _, _, c in lines) > 0
            assert (data["shard"], data["shard_seq"], data["prev_hash"], data["hash"], data["cause_event_id"]) == (
                e["shard"], e["shard_seq"], e["prev_hash"], e["hash"], e["cause_event_id"])
            assert envelope.id == f"E{e['hash']}" and envelope.causationid == e["cause_event_id"]
        else:
            assert envelope.type == "ledger.PostingRejected.v1"
            _, payload = decode_ledger_message(record.value)  # the whole payload, by careschemas
            rejected_causes[(payload.cause_event_id, payload.reason_code)] += 1
    assert kinds == {"ledger.EntryPosted.v1": len(entries), "ledger.PostingRejected.v1": len(rejections)}
    assert posted_ids == Counter(list(by_entry))  # every entry published, none twice
    assert rejected_causes == Counter((r["event_id"], r["reason_code"]) for r in rejections)

    # Every input offset was consumed (and nothing beyond).
    ends = await run.end_offsets()
    assert {tp: offsets.get(tp) for tp in ends} == ends


# -- the published contract of ledger.entries (schemas/asyncapi.json, careschemas.ledger_events) ------------

@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def small_ledger(stack, tmp_path_factory):
    """A worker and relay that have posted a tiny year, with one business mistake (a rejection)."""
    async with module_deployment(stack, tmp_path_factory.mktemp("ledger-contract")) as run:
        valid = generate(people=4, seed=1, council_id=COUNCIL)
        mistakes = [m for m in bad_messages(valid, COUNCIL) if b'"mistake-unknown-payment"' in m.value]
        assert len(mistakes) == 1
        run.start()
        await produce(stack, valid + mistakes, run.names)
        await run.wait_consumed(timeout_s=60)
        run.published = await read_topic(stack.bootstrap, run.names[ENTRIES])
        yield run


async def test_published_envelopes_and_rejections_validate_against_careschemas(small_ledger):
    """What does hold today (and guards the fixture the two known-bug tests below share)."""
    types = Counter()
    for record in small_ledger.published:
        envelope = Envelope.model_validate_json(record.value)
        types[envelope.type] += 1
        if envelope.type == "ledger.PostingRejected.v1":
            _, payload = decode_ledger_message(record.value)
            assert (payload.cause_event_id, payload.reason_code) == ("mistake-unknown-payment", "UNKNOWN_PAYMENT")
    assert types["ledger.PostingRejected.v1"] == 1 and types["ledger.EntryPosted.v1"] > 100, types


async def test_every_published_entry_validates_against_careschemas(small_ledger):
    invalid = Counter()
    for record in small_ledger.published:
        try:
            decode_ledger_message(record.value)
        except ValidationError as exc:
            invalid[(orjson.loads(record.value)["type"], str(exc.errors()[0]["loc"]))] += 1
    assert not invalid, f"{sum(invalid.values())} of {len(small_ledger.published)} invalid: {dict(invalid)}"


async def test_ledger_entries_are_keyed_by_shard(small_ledger):
    assert key_fields(EntryPosted) == ("shard",) and key_fields(PostingRejected) == ("shard",)
    wrong = Counter()
    for record in small_ledger.published:
        doc = orjson.loads(record.value)
        if record.key != doc["data"]["shard"].encode():
            wrong[doc["type"]] += 1
    assert not wrong, f"records not keyed by their shard: {dict(wrong)} of {len(small_ledger.published)}"
