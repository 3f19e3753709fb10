"""The ledger's batch handler driven in process, for tests of `LedgerIngest` against real PostgreSQL:
a generated year as the records of one partition per input topic, decoded as the consumer decodes
them, and an ingest wired as the worker wires it, with the partition lags a test chooses."""
from __future__ import annotations

from collections import namedtuple

from aiokafka.structs import TopicPartition
from careruntime.codec import decode_batch
from caretools.generator import generate
from ledger.service.ingest import LedgerIngest

from .ledger_harness import ALLOCATION as A, PAYMENTS as P

Record = namedtuple("Record", "topic partition offset value")  # what the ledger reads of a ConsumerRecord


def year_records(people: int, seed: int) -> dict[str, list[Record]]:
    """The generator's year, by input topic, each topic one partition numbered from offset 0."""
    by_topic: dict[str, list[Record]] = {A: [], P: []}
    for m in generate(people=people, seed=seed):
        records = by_topic[m.topic]
        records.append(Record(m.topic, 0, len(records), m.value))
    return by_topic


def decoded(by_topic: dict[str, list[Record]]) -> dict:
    """Records by topic as the consumer hands them to the ledger: decoded, by partition."""
    return {TopicPartition(t, 0): decode_batch(records)[0] for t, records in by_topic.items() if records}


def in_process_ingest(lags: dict | None = None, **options) -> LedgerIngest:
    """A worker's ingest as it starts (an empty book), assigned partition 0 of both input topics; a
    partition is behind by `lags.get(tp, 0)` records."""
    lags = lags or {}

    async def lag_of(tp):
        return lags.get(tp, 0)

    ingest = LedgerIngest(entries_topic="ledger.entries.v1", budget_topics=[A], other_topics=[P], lag_of=lag_of,
                          **options)
    ingest.assigned = lambda: [TopicPartition(A, 0), TopicPartition(P, 0)]  # as the consumer tells it
    return ingest
