"""The allocation service's batch handler for careruntime's BatchConsumer: decoded commands in, state
changes, processed-command rows and outbox rows out, all inside the consumer's transaction.

Whatever it writes commits together with the consumed offsets, so a crash anywhere leaves either the
whole batch or none of it, and a batch decided again decides the same (the state it loads is the
state the last commit left). Nothing is cached between batches: the state of a batch is read in it,
which keeps several workers correct without coordination.

A record that decodes but is not an allocation command (an event, or another family's command, sent
to the commands topic) is dead-lettered here with UNKNOWN_TYPE, like the records the codec refuses;
a command PostgreSQL could not store (adapters.storable) with INVALID_PAYLOAD.
"""
from __future__ import annotations

from collections import Counter

import structlog
from careruntime import outbox
from careruntime.codec import INVALID_PAYLOAD, UNKNOWN_TYPE
from careruntime.dlq import dlq_row
from careruntime.logging import event_logging
from prometheus_client import CollectorRegistry
from prometheus_client import Counter as PromCounter

from ..adapters import repository, wire
from ..adapters.storable import unstorable
from ..domain.decide import HANDLERS
from .process import ACCEPTED, CONFLICT, DUPLICATE, Item, Outcome, process

log = structlog.get_logger("allocation.ingest")


class IngestMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.commands = PromCounter("allocation_commands", "Allocation commands by outcome.", ["outcome"],
                                    registry=registry)
        self.rejections = PromCounter("allocation_rejections", "Rejected commands by reason code.", ["reason"],
                                      registry=registry)


class AllocationIngest:
    """One per worker process."""

    def __init__(self, *, events_topic: str, group_id: str | None = None, metrics: IngestMetrics | None = None) -> None:
        self.events_topic = events_topic
        self.group_id = group_id
        self.metrics = metrics
        self.stats: Counter[str] = Counter()

    async def handle(self, conn, decoded_by_tp: dict, rejects_by_tp: dict | None = None) -> None:
        items, dead = [], []
        for tp in sorted(decoded_by_tp, key=lambda t: (t.topic, t.partition)):
            for record, decoded in decoded_by_tp[tp]:
                if type(decoded.payload) not in HANDLERS:
                    dead.append(dlq_row(tp.topic, record, UNKNOWN_TYPE,
                                        f"{decoded.envelope.type} is not an allocation command",
                                        group_id=self.group_id))
                elif problem := unstorable(decoded.payload):
                    dead.append(dlq_row(tp.topic, record, INVALID_PAYLOAD, problem, group_id=self.group_id))
                else:
                    items.append(Item(tp.topic, tp.partition, record.offset, decoded.envelope, decoded.payload,
                                      wire.command_hash(decoded.envelope)))
        loaded = await repository.load(conn, items)
        outcomes = process(items, loaded)
        await repository.write(conn, loaded, outcomes)
        rows = [wire.outbox_row(self.events_topic, event, event_id, o.item.envelope)
                for o in outcomes for event_id, event in o.events]
        await outbox.append(conn, [*rows, *dead])
        self._account(outcomes, len(dead))

    def _account(self, outcomes: list[Outcome], dead: int) -> None:
        """Counters and log lines; runs before the commit, so a rolled-back batch is counted again on
        retry (metrics are for operators, processed_commands is the record)."""
        for o in outcomes:
            self.stats[o.kind] += 1
            if self.metrics:
                self.metrics.commands.labels(o.kind).inc()
                if o.rejection:
                    self.metrics.rejections.labels(o.rejection.code).inc()
            if o.kind in (ACCEPTED, DUPLICATE):
                continue
            with event_logging(o.item.envelope):
                level = log.warning if o.kind == CONFLICT else log.info
                level("command rejected", command_type=o.item.envelope.type, reason_code=o.rejection.code,
                      detail=o.rejection.detail)
        if dead:
            self.stats["dead_lettered"] += dead
            log.warning("records that decode but cannot be decided sent to the DLQ", count=dead)
