"""`python -m allocation views`: a faust-streaming app serving read-only budget summaries over HTTP.

Where faust fits, and where it does not:
- It fits here: a Kafka-to-Kafka read model. An agent folds allocation.events.v1 into a faust Table
  (budget id -> per council, the budget's state) with the domain's own `evolve_budget`; the table's
  changelog topic (`<app id>-budget_summaries-changelog`) restores it after a restart or a rebalance,
  and `GET /budgets/{council_id}/{budget_id}` answers from it (routed to the worker that owns the key).
- It does not decide anything. Commands go through the BatchConsumer and PostgreSQL, exactly once;
  faust's guarantees are at least once here, which is fine because applying a budget event again
  changes nothing (the last 64 event ids of each budget, and the offset of the last record applied, are
  remembered to keep `events_applied` exact too).

Across a rebalance faust 0.15.3 can leave a record out of the agent's stream and commit past it, or stop
delivering a partition altogether (both seen in CI). `views_guard.StreamGuard` checks each record's
offset against the last one projected and reads what faust left out back from the topic, and a timer
seeks a stalled partition back and resumes it; what it cannot repair fails /readyz (check "stream").

The table is keyed by budget id, the events topic's own key, so it is co-partitioned with the topic
(set ALLOCATION_VIEWS_PARTITIONS to the topic's partition count). Rejections are keyed by command id
and carry no budget state, so the agent skips them; so does it with provider events.

A table value travels as one changelog record, which faust's producer sends only up to 1,000,000 bytes: a
larger one crashed the process, on every start. A budget whose entry would pass VALUE_MAX (over a thousand
orders with ids at their longest, or many councils' budgets of one id) is marked outgrown instead of
written: its later events are counted (`outgrown`) and skipped, and GET answers 507 for it, naming the
allocation database, which holds every budget whatever its size.

Kafka outages: started while no broker answers, the process waits for one (a warning line per attempt;
nothing is served meanwhile) before faust starts, since faust's start-up exits on the first broker it
cannot reach. Once started, faust reconnects by itself and `/readyz` fails on Kafka while it is away.

Probes and metrics: `/healthz` (the web server answers), `/readyz` (careruntime.health's readiness:
Kafka answers a metadata request and the table has been recovered from its changelog; the views use
no PostgreSQL) and `/metrics` (faust's own Prometheus sensors, `allocation_views_*`, plus the
projection's counters). Kafka TLS/SASL comes from careruntime.kafka_security, as for every process.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any

import faust
import orjson
from careruntime.codec import DecodeError, decode
from careruntime.health import kafka_check, readiness
from careruntime.kafka_security import KafkaSecurity
from careruntime.stackinfo import await_kafka
from faust.sensors.prometheus import setup_prometheus_sensors
from prometheus_client import CollectorRegistry, Counter

from ..adapters.partition_reader import PartitionReader
from ..adapters.state_codec import dump_budget, load_budget
from ..config import Settings
from ..domain.evolve import BUDGET_EVENTS, evolve_budget
from ..service.summary import budget_summary
from .views_guard import StreamGuard

log = logging.getLogger("allocation.views")

SEEN = 64  # event ids remembered per budget, to count an event relayed twice only once
METRICS_PREFIX = "allocation_views"
READYZ_TIMEOUT_S = 3.0  # the chart's readiness probe waits longer than this
VALUE_MAX = 900_000
"""The largest table value written, in bytes of its JSON (faust's serializer is orjson): below the
1,000,000 bytes faust's producer sends in one request, with room for the record's key and framing."""


def outgrown(entry: dict[str, Any] | None, council_id: str) -> bool:
    """Whether the view has given up on this council's budget of the entry's id (too large to hold)."""
    return bool(entry) and (entry.get(council_id) or {}).get("outgrown") is not None


def fold(entry: dict[str, Any] | None, council_id: str, event_id: str, payload,
         offset: int | None = None) -> dict[str, Any] | None:
    """The table value after one budget event, or None when it changes nothing (a repeat).

    A repeat is an event id among the budget's last SEEN (the relay published it twice), or a record at or
    before the offset of the last one applied: a budget's events all sit on one partition, in order, so
    the offset makes reading a stretch of the partition again exact however long the budget's history.
    """
    entry = dict(entry or {})
    current = entry.get(council_id) or {"state": None, "seen": []}
    last = current.get("offset", -1)
    if outgrown(entry, council_id) or event_id in current["seen"] or (offset is not None and offset <= last):
        return None
    state = load_budget(current["state"]) if current["state"] is not None else None
    budget = evolve_budget(state, payload, council_id)
    mark = last if offset is None else offset
    entry[council_id] = {"state": dump_budget(budget, with_orders=True), "seen": current["seen"][-(SEEN - 1):] + [event_id],
                         "offset": mark}
    if len(orjson.dumps(entry, option=orjson.OPT_NON_STR_KEYS)) > VALUE_MAX:
        # No larger than this council's state before (bar a first event, by a marker's ~100 bytes, inside
        # the margin to faust's limit), so the entry stays within one record however the budget grows.
        entry[council_id] = {"state": None, "seen": [], "offset": mark, "outgrown": budget.version}
    return entry


def make_app(settings: Settings) -> faust.App:
    app = faust.App(
        settings.views_app_id,
        broker=f"kafka://{settings.kafka_bootstrap}",
        store="memory://",  # rebuilt from the changelog topic on start: no local disk state to lose
        autodiscover=False,
        web_host=settings.views_host,
        web_port=settings.views_port,
        topic_partitions=settings.views_partitions,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        broker_session_timeout=settings.views_session_timeout_s,
        broker_credentials=KafkaSecurity.from_env().faust_credentials(),
        **({"datadir": str(settings.views_data_dir)} if settings.views_data_dir else {}),
    )
    registry = CollectorRegistry()
    setup_prometheus_sensors(app, pattern="/metrics", registry=registry, name_prefix=METRICS_PREFIX)
    projected = Counter("projected_events", "Events on the events topic, by what the view did with them.",
                        ["outcome"], namespace=METRICS_PREFIX, registry=registry)
    events = app.topic(settings.events_topic, key_type=bytes, value_type=bytes, key_serializer="raw",
                       value_serializer="raw", partitions=settings.views_partitions)
    # bytes keys travel raw: the changelog's key is then the events topic's key (the budget id), so a
    # key hashes to the same partition in both and faust routes a request to the worker that owns it.
    summaries = app.Table("budget_summaries", default=None, partitions=settings.views_partitions, key_type=bytes)

    reader = PartitionReader(settings.kafka_bootstrap, group_id=settings.views_app_id)  # faust's group id

    def project_record(key: bytes | None, value: bytes, offset: int, applied: str = "applied") -> bool:
        """Fold one record of the events topic into the table (called inside the agent's event context,
        so a write goes to the changelog partition of the record's own partition); True when it changed it."""
        try:
            decoded = decode(value)
        except DecodeError as exc:  # our own topic: should not happen, and must not stop the view
            log.warning("undecodable record on %s skipped: %s", settings.events_topic, exc)
            projected.labels("undecodable").inc()
            return False
        payload = decoded.payload
        if type(payload) not in BUDGET_EVENTS:
            projected.labels("not_a_budget_event").inc()
            return False
        env, budget_key = decoded.envelope, payload.budget_id.encode()
        if key != budget_key:  # the table must stay co-partitioned with the topic
            log.warning("budget event %s keyed %r, not by its budget; skipped", env.id, key)
            projected.labels("wrong_key").inc()
            return False
        before = summaries.get(budget_key)
        if outgrown(before, env.councilid):
            projected.labels("outgrown").inc()
            return False
        try:
            entry = fold(before, env.councilid, env.id, payload, offset)
        except Exception:  # a gap in the stream (e.g. a variation of an unseen order): skip, say so
            log.exception("budget event %s could not be applied to the view", env.id)
            projected.labels("failed").inc()
            return False
        projected.labels("repeat" if entry is None else applied).inc()
        if entry is None:
            return False
        if outgrown(entry, env.councilid):
            log.warning("budget %s of council %s outgrew the view at event %s (its entry would pass %d bytes); "
                        "its later events are skipped, and the allocation database holds it",
                        payload.budget_id, env.councilid, env.id, VALUE_MAX)
        summaries[budget_key] = entry
        return True

    guard = StreamGuard(app, settings.events_topic, reader, project_record,
                        lambda outcome: projected.labels(outcome).inc(), settings.views_stall_s)

    @app.agent(events)
    async def project(stream):
        async for event in stream.events():
            tp, offset = event.message.tp, event.message.offset
            if await guard.admit(tp, offset):
                project_record(event.key, event.value, offset)
                guard.projected(tp, offset)

    @app.on_partitions_revoked.connect
    async def forget_order(sender, revoked, **kwargs) -> None:
        guard.forget()

    @app.timer(interval=max(1.0, settings.views_stall_s / 3))
    async def watch_stream() -> None:
        try:
            await guard.watch()
        except Exception:  # a failed look must not end the timer; the next tick looks again
            log.exception("the stream watch failed; it looks again at its next tick")

    async def answer(view, request, council_id: str, budget_id: str):
        current = (summaries.get(budget_id.encode()) or {}).get(council_id)
        if current is None:
            return view.json({"error": f"no budget {budget_id} for council {council_id}"}, status=404)
        if current.get("outgrown") is not None:
            return view.json({"error": f"budget {budget_id} of council {council_id} outgrew this view after "
                                       f"{current['outgrown']} events; the allocation database holds it"}, status=507)
        return view.json(budget_summary(load_budget(current["state"])))

    routed = app.table_route(table=summaries, match_info="budget_id")(answer)
    changelog = summaries.changelog_topic.get_topic_name()

    @app.page("/budgets/{council_id}/{budget_id}")
    async def budget_view(view, request, council_id: str, budget_id: str):
        """The summary of one budget, from the worker that owns its key (faust forwards the request)."""
        # faust 0.15.3 picks the owner with its producer's metadata of the changelog topic, which a
        # worker that has not written to it yet (just started, or restarted) lacks: fetch it first.
        await app.producer._ensure_producer().partitions_for(changelog)
        return await routed(view, request, council_id=council_id, budget_id=budget_id)

    @app.page("/healthz")
    async def healthz(view, request):
        return view.json({"status": "ok"})

    checks = {"kafka": kafka_check(settings.kafka_bootstrap), "table": table_check(app), "stream": guard.check()}

    @app.page("/readyz")
    async def readyz(view, request):
        body, status = await readiness(checks, READYZ_TIMEOUT_S)
        return view.json(body, status=status)

    return app


def table_check(app: faust.App):
    """Passes once the table has been recovered from its changelog, and not while it recovers again."""

    async def check() -> None:
        if not app.tables.recovery.completed.is_set():
            raise RuntimeError("the table is not recovered from its changelog yet")
        if app.in_recovery:
            raise RuntimeError("the table is recovering from its changelog (after a rebalance)")

    return check


def run_views(settings: Settings) -> int:
    loop = asyncio.new_event_loop()  # faust makes and runs its own loop; this one only waits for the broker
    try:
        loop.run_until_complete(await_kafka(settings.kafka_bootstrap, log))
    finally:
        loop.close()
    app = make_app(settings)
    worker = faust.Worker(app, loglevel=settings.log_level.lower())
    worker.execute_from_commandline()  # runs until SIGTERM/SIGINT; faust handles the signals
    return 0
