"""The ledger's business-time ordering just after a restart: when a batch holds only payments records
and the allocation partition they depend on is behind with nothing of it fetched yet, the ledger holds
the batch (for `order_patience_s`) instead of applying payments before the budget events they follow.
Real PostgreSQL (the ledger's schema) for the state the decisions read; records built from the demo
generator's events, one partition per topic."""
from collections import namedtuple

import asyncpg
from aiokafka.structs import TopicPartition
from careruntime.codec import decode_batch
from caretools.generator import generate
from ledger.service.ingest import LedgerIngest

A, P = "allocation.events.v1", "payments.events.v1"
Record = namedtuple("Record", "topic partition offset value")


def _batch():
    messages = generate(people=6, seed=11)
    by_topic: dict[str, list[Record]] = {A: [], P: []}
    for m in messages:
        records = by_topic[m.topic]
        records.append(Record(m.topic, 0, len(records), m.value))
    return {TopicPartition(t, 0): decode_batch(records)[0] for t, records in by_topic.items()}


def _ingest(lags: dict, patience: float) -> LedgerIngest:
    async def lag_of(tp):
        return lags.get(tp, 0)

    ingest = LedgerIngest(entries_topic="ledger.entries.v1", budget_topics=[A], other_topics=[P],
                          lag_of=lag_of, order_patience_s=patience)
    ingest.assigned = lambda: [TopicPartition(A, 0), TopicPartition(P, 0)]  # as the consumer tells it
    return ingest


async def test_payments_wait_for_a_budget_partition_not_fetched_yet(fresh_db):
    dsn = await fresh_db("ledger")
    full = _batch()
    alloc, pay = TopicPartition(A, 0), TopicPartition(P, 0)
    assert full[alloc] and full[pay]
    conn = await asyncpg.connect(dsn)
    try:
        in_order = await _ingest({}, 60).prepare_on(conn, full)
        assert in_order.rows.journal and in_order.resume == {}

        lags = {alloc: None}  # just restarted: allocation's end is not known, nothing of it fetched
        ingest = _ingest(lags, 60)
        only_payments = {pay: full[pay]}
        for _ in range(2):
            held = await ingest.prepare_on(conn, only_payments)
            assert held.rows.journal == held.rows.processed == [] and held.resume == {pay: 0}
        assert ingest.stats["order_wait"] == 2 and "order_fallback" not in ingest.stats

        lags[alloc] = 0  # allocation's records arrive: everything goes, in business order
        both = await ingest.prepare_on(conn, full)
        assert both.rows.journal == in_order.rows.journal  # the same entries, chained in the same order
        assert both.rows.processed == in_order.rows.processed
        assert both.resume == {}

        impatient = _ingest({alloc: None}, 0)
        assert (await impatient.prepare_on(conn, only_payments)).rows.processed == []
        await impatient.prepare_on(conn, only_payments)  # patience over: taken as it came (the first
        # payment then waits for its budget as a deferral, as it would have before this change)
        assert impatient.stats["order_fallback"] == 1 and impatient.stats["order_wait"] == 1
    finally:
        await conn.close()
