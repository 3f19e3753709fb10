"""The allocation service through the real broker and database: commands in on the commands topic,
events and coded rejections out on the events topic (worker and relay in-process, on the runtime's
BatchConsumer and OutboxRelay), exact and conflicting resends, and malformed commands on the DLQ."""
from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime

import asyncpg
import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import TopicPartition
from allocation.bootstrap import make_relay, make_worker
from allocation.config import Settings
from careruntime.codec import KAFKA_HEADERS, decode, encode
from careruntime.consumer import ConsumerSettings
from careschemas.registry import make_envelope, payload_model
from careschemas.topics import message_key

pytestmark = pytest.mark.integration

COUNCIL = "E08000025"
FAST = ConsumerSettings(max_records=50, fetch_timeout_ms=100, retry_backoff_s=0.05)
T0 = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)


def command(short: str, command_id: str, **fields) -> tuple[bytes, bytes]:
    """(key, value) of an allocation command as a case system would send it."""
    fields.setdefault("effective_date", date(2026, 4, 1))
    payload = payload_model(f"allocation.{short}.v1").model_validate(fields)
    key = message_key(payload)
    env = make_envelope(payload, id=command_id, source="urn:case-system:test", subject=key, council_id=COUNCIL,
                        correlation_id=f"conv-{command_id}", time=T0)
    return key.encode(), encode(env)


async def send(bootstrap: str, topic: str, messages: list[tuple[bytes | None, bytes | None]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for key, value in messages:
            await producer.send_and_wait(topic, value, key=key, headers=KAFKA_HEADERS)
    finally:
        await producer.stop()


async def read_all(bootstrap: str, topic: str) -> list:
    """Every committed record of `topic`, up to its end offsets now."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, isolation_level="read_committed",
                                enable_auto_commit=False, auto_offset_reset="earliest")
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        tps = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        records = []
        while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                records.extend(batch)
        return records
    finally:
        await consumer.stop()


async def drained(pool: asyncpg.Pool, group: str, topic: str, bootstrap: str, timeout_s: float = 60) -> None:
    """Wait until the group's offsets stored in PostgreSQL reach the topic's end and the outbox is empty."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        tps = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        ends = await consumer.end_offsets(tps)
    finally:
        await consumer.stop()
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        rows = await pool.fetch("SELECT partition, next_offset FROM consumer_offsets WHERE group_id = $1 AND topic = $2",
                                group, topic)
        stored = {r["partition"]: r["next_offset"] for r in rows}
        outbox = await pool.fetchval("SELECT count(*) FROM outbox")
        if all(stored.get(tp.partition, 0) >= end for tp, end in ends.items()) and outbox == 0:
            return
        assert asyncio.get_running_loop().time() < deadline, f"not drained: {stored} vs {ends}, outbox {outbox}"
        await asyncio.sleep(0.1)


class Service:
    """Worker and relay of one allocation database, running in this event loop."""

    def __init__(self, settings: Settings, pool: asyncpg.Pool) -> None:
        self.settings, self.pool = settings, pool
        self.worker = make_worker(settings, pool, FAST)
        self.relay, _ = make_relay(settings, pool, poll_interval_s=0.05)
        self.tasks = [asyncio.create_task(self.worker.consumer.run()), asyncio.create_task(self.relay.run())]

    async def drained(self) -> None:
        await drained(self.pool, self.settings.group_id, self.settings.commands_topic, self.settings.kafka_bootstrap)

    async def stop(self) -> None:
        self.worker.consumer.request_stop()
        self.relay.request_stop()
        await asyncio.wait_for(asyncio.gather(*self.tasks), timeout=30)


@pytest.fixture
async def allocation(stack, fresh_db, topics):
    names = await topics(["allocation.commands.v1", "allocation.commands.v1.dlq", "allocation.events.v1"])
    dsn = await fresh_db("allocation")
    settings = Settings(kafka_bootstrap=stack.bootstrap, database_url=dsn, group_id=f"allocation-{uuid.uuid4().hex[:8]}",
                        commands_topic=names["allocation.commands.v1"], events_topic=names["allocation.events.v1"])
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=8)
    services: list[Service] = []

    def start() -> Service:
        services.append(Service(settings, pool))
        return services[-1]

    try:
        yield settings, pool, start
    finally:
        for service in services:
            if not all(t.done() for t in service.tasks):
                await service.stop()
        await pool.close()


PROVIDER = [
    command("RegisterProvider", "c-prov", provider_id="PR-1", name="Meadowbank Home Care Ltd", provider_type="private"),
    command("ChangeProviderBankDetails", "c-bank", provider_id="PR-1", account_ref="vault-tok-9f2c1a",
            verified_by="j.okafor@council.example"),
]
ORDER = {"order_id": "SO-1", "budget_id": "PB-1", "provider_id": "PR-1", "service_type": "home_care",
         "unit": "hour", "rate_pence": 2450, "planned_units_per_week": 14, "payment_basis": "invoice",
         "start_date": date(2026, 4, 1), "end_date": date(2026, 9, 30)}
AGREE = {"budget_id": "PB-1", "person_ref": "P-83921", "amount_pence": 5_200_000,
         "variance_reason": "Night-time support", "start_date": date(2026, 4, 1), "end_date": date(2027, 3, 31)}
BUDGET = [
    command("CalculateIndicativeBudget", "c-ind", budget_id="PB-1", person_ref="P-83921", amount_pence=5_000_000,
            ras_version="RAS-2026.1"),
    command("AgreePersonalBudget", "c-agree", **AGREE),
    command("AgreeFundingSplit", "c-split", budget_id="PB-1", icb_pence=2_000_000, pooled_pence=0,
            agreement_ref="S75-2026-03"),
    command("AssessContribution", "c-contrib", budget_id="PB-1", weekly_pence=2_500, mode="netted"),
    command("AllocateDeliveryRoute", "c-route", budget_id="PB-1", route="direct_payment", amount_pence=3_000_000),
    command("CommissionServiceOrder", "c-order", **ORDER),
    command("CommissionServiceOrder", "c-over", **{**ORDER, "order_id": "SO-2", "rate_pence": 100_000,
                                                  "end_date": date(2027, 3, 31)}),
    command("AuthoriseOverspend", "c-auth", budget_id="PB-1", authoriser="head.of.asc", limit_pence=50_000,
            reason="Hospital discharge"),
    command("VaryServiceOrder", "c-vary", order_id="SO-1", budget_id="PB-1", rate_pence=2450,
            planned_units_per_week=20, end_date=date(2026, 9, 30), effective_date=date(2026, 7, 1)),
    command("RecordDeath", "c-death", budget_id="PB-1", person_ref="P-83921", date_of_death=date(2026, 9, 14),
            effective_date=date(2026, 9, 14)),
    command("RevisePersonalBudget", "c-after", budget_id="PB-1", amount_pence=6_000_000, reason="Review"),
]
EXPECTED = {  # event id -> (type, key)
    "c-prov.e1": ("ProviderRegistered", "PR-1"), "c-bank.e1": ("ProviderBankDetailsChanged", "PR-1"),
    "c-ind.e1": ("IndicativeBudgetCalculated", "PB-1"), "c-agree.e1": ("PersonalBudgetAgreed", "PB-1"),
    "c-split.e1": ("FundingSplitAgreed", "PB-1"), "c-contrib.e1": ("ContributionAssessed", "PB-1"),
    "c-route.e1": ("DeliveryRouteAllocated", "PB-1"), "c-order.e1": ("ServiceOrderCommissioned", "PB-1"),
    "c-over.e1": ("CommandRejected", "c-over"), "c-auth.e1": ("OverspendAuthorised", "PB-1"),
    "c-vary.e1": ("ServiceOrderVaried", "PB-1"), "c-death.e1": ("PersonDied", "PB-1"),
    "c-death.e2": ("ServiceOrderEnded", "PB-1"), "c-after.e1": ("CommandRejected", "c-after"),
}


def bad_commands() -> dict[str, tuple[bytes | None, bytes]]:
    """reason -> (key, value) of a command that must land on the DLQ."""
    _, good = command("RevisePersonalBudget", "c-bad", budget_id="PB-1", amount_pence=1, reason="r")
    doc = orjson.loads(good)
    return {
        "MALFORMED_JSON": (b"PB-1", b'{"specversion": "1.0", "id": '),
        "INVALID_ENVELOPE": (b"PB-1", orjson.dumps({k: v for k, v in doc.items() if k != "councilid"})),
        "UNKNOWN_TYPE": (b"PB-1", orjson.dumps({**doc, "id": "c-bad-type", "type": "allocation.TeleportBudget.v1"})),
        "INVALID_PAYLOAD": (b"PB-1", orjson.dumps({**doc, "id": "c-bad-money",
                                                   "data": {**doc["data"], "amount_pence": -5}})),
        "INVALID_PAYLOAD/raw-bank-details": command("ChangeProviderBankDetails", "c-bad-bank", provider_id="PR-1",
                                                    account_ref="x", verified_by="a.b")[:1] + (
            orjson.dumps({**orjson.loads(PROVIDER[1][1]), "id": "c-bad-bank",
                          "data": {**orjson.loads(PROVIDER[1][1])["data"], "account_ref": "12-34-56"}}),),
        "UNKNOWN_TYPE/event-on-the-command-topic": (b"PB-1", orjson.dumps({
            **doc, "id": "c-bad-event", "type": "allocation.PersonalBudgetRevised.v1",
            "data": {**doc["data"], "reason": "sent to the wrong topic"}})),
    }


async def test_commands_become_events_or_coded_rejections_and_bad_ones_go_to_the_dlq(allocation):
    settings, pool, start = allocation
    service = start()
    # The case system registers a provider and waits for it before commissioning from it.
    await send(settings.kafka_bootstrap, settings.commands_topic, PROVIDER)
    await service.drained()
    sent = [*BUDGET,
            BUDGET[1],  # an exact resend of c-agree
            command("AgreePersonalBudget", "c-agree", **{**AGREE, "amount_pence": 5_300_000}),  # reused id, new content
            *bad_commands().values()]
    await send(settings.kafka_bootstrap, settings.commands_topic, sent)
    await service.drained()

    records = await read_all(settings.kafka_bootstrap, settings.events_topic)
    by_id = {}
    for record in records:
        decoded = decode(record.value)
        env = decoded.envelope
        assert env.id not in by_id, f"{env.id} published twice"
        by_id[env.id] = (record.key.decode(), env, decoded.payload)

    conflict_ids = [i for i in by_id if i.startswith("c-agree.c")]
    assert len(conflict_ids) == 1
    assert set(by_id) == set(EXPECTED) | set(conflict_ids)
    for event_id, (type_short, key) in EXPECTED.items():
        record_key, env, _ = by_id[event_id]
        command_id = event_id.split(".")[0]
        assert (env.type, record_key) == (f"allocation.{type_short}.v1", key), event_id
        assert (env.causationid, env.correlationid, env.councilid) == (command_id, f"conv-{command_id}", COUNCIL)
        assert env.source == "urn:careledger:allocation"

    rejections = {e.id: p for _, e, p in by_id.values() if e.type.endswith("CommandRejected.v1")}
    assert {i: (p.command_id, p.command_type, p.reason_code) for i, p in rejections.items()} == {
        "c-over.e1": ("c-over", "allocation.CommissionServiceOrder.v1", "INSUFFICIENT_BUDGET"),
        "c-after.e1": ("c-after", "allocation.RevisePersonalBudget.v1", "BUDGET_CLOSED"),
        conflict_ids[0]: ("c-agree", "allocation.AgreePersonalBudget.v1", "DUPLICATE_CONFLICT"),
    }
    ended = by_id["c-death.e2"][2]
    assert (ended.order_id, ended.end_date) == ("SO-1", date(2026, 9, 14))

    dead = await read_all(settings.kafka_bootstrap, settings.commands_topic + ".dlq")
    reasons = sorted(dict(r.headers)["dlq.reason"].decode() for r in dead)
    assert reasons == sorted(code.split("/")[0] for code in bad_commands())
    assert {r.value for r in dead} == {value for _, value in bad_commands().values()}  # unchanged bytes

    budget = await pool.fetchrow("SELECT status, amount_pence, committed_pence, version FROM budgets "
                                 "WHERE council_id = $1 AND budget_id = 'PB-1'", COUNCIL)
    # SO-1: 1 Apr..30 Jun at 14 h (91 days), then 1 Jul..14 Sep at 20 h (76 days), at £24.50 an hour.
    assert dict(budget) == {"status": "deceased", "amount_pence": 5_200_000,
                            "committed_pence": 2450 * 14 * 91 // 7 + 2450 * 20 * 76 // 7, "version": 10}
    outcomes = await pool.fetch("SELECT command_id, conflict, outcome, reason_code, event_ids FROM processed_commands")
    assert len(outcomes) == len(PROVIDER) + len(BUDGET) + 1  # every command once, plus the conflict


async def test_a_restarted_worker_resumes_from_postgresql_and_resends_emit_nothing_new(allocation):
    settings, pool, start = allocation
    service = start()
    await send(settings.kafka_bootstrap, settings.commands_topic, PROVIDER)
    await service.drained()
    await send(settings.kafka_bootstrap, settings.commands_topic, BUDGET)
    await service.drained()
    await service.stop()
    before = await read_all(settings.kafka_bootstrap, settings.events_topic)

    service = start()  # a new process: nothing in memory, everything from PostgreSQL
    await send(settings.kafka_bootstrap, settings.commands_topic, [*PROVIDER, *BUDGET])  # the whole lot again
    await service.drained()
    after = await read_all(settings.kafka_bootstrap, settings.events_topic)
    assert sorted(r.value for r in after) == sorted(r.value for r in before)
    assert len(before) == len(EXPECTED)
    assert await pool.fetchval("SELECT count(*) FROM processed_commands") == len(PROVIDER) + len(BUDGET)


async def test_each_council_is_judged_by_its_own_policy_from_the_database(allocation):
    settings, pool, start = allocation
    await pool.execute("INSERT INTO council_policies (council_id, settings) VALUES ($1, $2::jsonb)", COUNCIL,
                       orjson.dumps({"allowed_contribution_modes": ["netted"]}).decode())
    service = start()
    messages = []
    for council in (COUNCIL, "E09000001"):
        for short, fields in (("AgreePersonalBudget", {**AGREE, "budget_id": "PB-7"}),
                              ("AssessContribution", {"budget_id": "PB-7", "weekly_pence": 1_000, "mode": "gross"})):
            key, value = command(short, f"{council}-{short}", **fields)
            doc = orjson.loads(value)
            messages.append((key, orjson.dumps({**doc, "councilid": council})))
    await send(settings.kafka_bootstrap, settings.commands_topic, messages)
    await service.drained()
    outcomes = {r["command_id"]: r["reason_code"] for r in await pool.fetch(
        "SELECT command_id, reason_code FROM processed_commands")}
    assert outcomes == {f"{COUNCIL}-AgreePersonalBudget": None, f"{COUNCIL}-AssessContribution": "CONTRIBUTION_MODE_NOT_ALLOWED",
                        "E09000001-AgreePersonalBudget": None, "E09000001-AssessContribution": None}
