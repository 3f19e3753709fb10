"""Where a record the budget views' agent receives stands in its partition: next, already read, or past a hole.

Pure bookkeeping, no I/O: per partition, the offset after the last record the agent projected. The agent
(entrypoints/views.py) skips what it has read (faust re-delivers after seeking back to committed offsets)
and, on a jump, reads what lies between from the topic before projecting the record (faust can leave a
hole across a rebalance; adapters/partition_reader.py). Most jumps are transaction markers of the relay:
offsets that hold no record. Forgotten on every rebalance: a partition this worker gets (back) starts
from wherever faust starts it, and the table's remembered event ids catch a record projected twice.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Place = Literal["first", "next", "read", "jump"]


@dataclass
class StreamOrder:
    expected: dict[Any, int] = field(default_factory=dict)  # partition -> offset after the last one projected

    def place(self, tp: Any, offset: int) -> tuple[Place, int | None]:
        """("first", None) for the first record since the last rebalance (compare it with where faust was to
        start), ("next", None), ("read", None) for an offset already projected, or ("jump", first offset
        missed)."""
        expected = self.expected.get(tp)
        if expected is None:
            return "first", None
        if offset == expected:
            return "next", None
        if offset < expected:
            return "read", None
        return "jump", expected

    def projected(self, tp: Any, offset: int) -> None:
        self.expected[tp] = offset + 1

    def forget(self) -> None:
        self.expected.clear()
