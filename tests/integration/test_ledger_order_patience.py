"""The ledger's business-time ordering just after a restart: when a batch holds only payments records
and the allocation partition they depend on is behind with nothing of it fetched yet, the ledger holds
the batch (for `order_patience_s`) instead of applying payments before the budget events they follow.
Real PostgreSQL (the ledger's schema) for the state the decisions read; records built from the demo
generator's events, one partition per topic."""
import asyncpg
from aiokafka.structs import TopicPartition

from .ledger_in_process import A, P, decoded, in_process_ingest, year_records


def _batch():
    return decoded(year_records(people=6, seed=11))


def _ingest(lags: dict, patience: float):
    return in_process_ingest(lags, order_patience_s=patience)


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
