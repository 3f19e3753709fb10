"""Records a batch consumer has fetched and decoded but not committed yet, kept per partition.

A handler may stop a partition part way through a batch (the ledger holds records back until a partner
partition catches up in business time; a dependency has not arrived). The consumer keeps those records,
already decoded, for the next batch instead of seeking back and fetching and decoding them again, and
the fetch position runs on past them. The offset stored in PostgreSQL stays at the first held record,
so a crash or a rolled-back batch re-reads them from Kafka: what is held is a cache, never the truth.

Pure and synchronous: BatchConsumer decides when to hold, drop or pause.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class Part:
    """One partition's share of a batch: its raw records in offset order and how each decoded."""

    records: list[Any]  # aiokafka ConsumerRecords
    good: list[tuple[Any, Any]]  # (record, Decoded)
    bad: list[tuple[Any, Any]]  # (record, DecodeError)

    def then(self, later: Part) -> Part:
        """This part followed by `later` (the next records of the same partition)."""
        return Part(self.records + later.records, self.good + later.good, self.bad + later.bad)

    def from_offset(self, offset: int) -> Part | None:
        """The records at or after `offset`, or None when the whole part lies before it."""
        if not self.records or self.records[-1].offset < offset:
            return None
        if self.records[0].offset >= offset:
            return self
        return Part([r for r in self.records if r.offset >= offset],
                    [pair for pair in self.good if pair[0].offset >= offset],
                    [pair for pair in self.bad if pair[0].offset >= offset])


def split(parts: dict[Any, Part]) -> tuple[dict, dict, dict]:
    """(records, decoded, rejects) by partition, the shapes BatchHandler receives; empty lists left out."""
    records = {tp: p.records for tp, p in parts.items()}
    decoded = {tp: p.good for tp, p in parts.items() if p.good}
    rejects = {tp: p.bad for tp, p in parts.items() if p.bad}
    return records, decoded, rejects


__all__ = ["Part", "split"]
