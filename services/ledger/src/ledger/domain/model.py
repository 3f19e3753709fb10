"""Value objects and the in-memory book the posting rules read and change.

The book holds just the state the rules need (balances, budget terms, orders, schedules, holds,
recoveries, invoices seen). The service layer loads the slice a batch touches and persists what the
book marks dirty; the domain itself never does I/O.

The value objects made for every event or line (Event, Line, Posting, Entry, Outcome) are plain classes
with Final attributes, which mypyc compiles to native classes (ledger.native): built in ~20 ns, where a
NamedTuple took ~160 (~300 with keyword arguments) and a frozen dataclass ~400 (docs/performance.md,
"Eighth pass").
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar, Final, Protocol


class Incoming(Protocol):
    """A validated business event as the ledger sees it (the wire adapter builds these)."""

    event_id: str
    type: str
    council_id: str
    content_hash: str
    recorded_at: str  # the producer's recorded time, ISO 8601; part of the entry, so replay is exact
    payload: Any  # typed payload with attribute access (e.g. the schemas' pydantic model)


class Value:
    """A value object: equal, hashed and shown by its fields (`__match_args__`, which also lets it be
    matched by position like a NamedTuple), never changed after `__init__` (its attributes are Final:
    mypy refuses any later assignment, and the compiled build type-checks every module that makes one)."""

    __match_args__: ClassVar[tuple[str, ...]] = ()

    def _values(self) -> tuple[Any, ...]:
        return tuple([getattr(self, name) for name in self.__match_args__])

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and isinstance(other, Value) and self._values() == other._values()

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={value!r}" for name, value in zip(self.__match_args__, self._values()))
        return f"{type(self).__name__}({fields})"


class Event(Value):
    __match_args__ = ("event_id", "type", "council_id", "content_hash", "recorded_at", "payload")

    def __init__(self, event_id: str, type: str, council_id: str, content_hash: str, recorded_at: str,
                 payload: Any) -> None:
        self.event_id: Final = event_id
        self.type: Final = type
        self.council_id: Final = council_id
        self.content_hash: Final = content_hash
        self.recorded_at: Final = recorded_at
        self.payload: Final = payload


class Line(Value):
    """One side of a posting: an account and a debit or a credit, in pence."""

    __match_args__ = ("account", "debit", "credit")

    def __init__(self, account: str, debit: int = 0, credit: int = 0) -> None:
        self.account: Final = account
        self.debit: Final = debit
        self.credit: Final = credit


class Posting(Value):
    """What a rule wants posted: balanced lines, optionally reversing an earlier entry."""

    __match_args__ = ("lines", "reverses_entry_id")

    def __init__(self, lines: tuple[Line, ...], reverses_entry_id: str | None = None) -> None:
        self.lines: Final = lines
        self.reverses_entry_id: Final = reverses_entry_id


class Rejection(Value):
    __match_args__ = ("code", "detail")

    def __init__(self, code: str, detail: str) -> None:
        self.code: Final = code
        self.detail: Final = detail


class Noted(Value):
    """Accepted with no money movement (e.g. ProviderRegistered); still accounted for."""

    __match_args__ = ("detail",)

    def __init__(self, detail: str = "") -> None:
        self.detail: Final = detail


class Entry(Value):
    __match_args__ = ("entry_id", "shard", "shard_seq", "council_id", "effective_date", "recorded_at",
                      "cause_event_id", "cause_type", "rule_version", "lines", "reverses_entry_id",
                      "prev_hash", "hash")

    def __init__(self, entry_id: str, shard: str, shard_seq: int, council_id: str, effective_date: date,
                 recorded_at: str, cause_event_id: str, cause_type: str, rule_version: str,
                 lines: tuple[Line, ...], reverses_entry_id: str | None, prev_hash: str, hash: str) -> None:
        self.entry_id: Final = entry_id
        self.shard: Final = shard
        self.shard_seq: Final = shard_seq
        self.council_id: Final = council_id
        self.effective_date: Final = effective_date
        self.recorded_at: Final = recorded_at
        self.cause_event_id: Final = cause_event_id
        self.cause_type: Final = cause_type
        self.rule_version: Final = rule_version
        self.lines: Final = lines
        self.reverses_entry_id: Final = reverses_entry_id
        self.prev_hash: Final = prev_hash
        self.hash: Final = hash


class Outcome(Value):
    """The ledger's answer to one event: exactly one of entry / rejection / noted, or a duplicate."""

    __match_args__ = ("event", "kind", "entry", "rejection")

    def __init__(self, event: Event, kind: str, entry: Entry | None = None, rejection: Rejection | None = None) -> None:
        self.event: Final = event
        self.kind: Final = kind  # "posted" | "rejected" | "noted" | "deferred" | "duplicate"
        self.entry: Final = entry
        self.rejection: Final = rejection


@dataclass(slots=True)
class BudgetTerms:
    budget_id: str
    council_id: str
    start_date: date
    end_date: date
    total: int
    status: str = "active"  # active | ended | deceased
    died_on: date | None = None
    closed_on: date | None = None  # last day changes may take effect (death or end)
    authorised_limit: int = 0  # how far below zero the budget account may go
    contribution_annual: int = 0


@dataclass(slots=True)
class OrderTerms:
    order_id: str
    budget_id: str
    provider_id: str
    rate: int
    units: int
    segment_start: date
    end_date: date
    fixed: int = 0  # commitment of segments before segment_start (earlier variations)
    committed: int = 0  # commitment currently posted for the order
    status: str = "active"


@dataclass(slots=True)
class ScheduleTerms:
    schedule_id: str
    budget_id: str
    amount: int
    frequency_weeks: int
    first_due: date
    end_date: date
    committed: int
    status: str = "active"  # active | suspended


@dataclass(slots=True)
class Hold:
    """A two-phase payment: reserved at instruction, posted at settlement, released on return."""

    payment_id: str
    council_id: str
    pending_account: str
    sources: tuple[tuple[str, int], ...]  # accounts debited at reservation, and how much
    amount: int
    status: str  # reserved | settled | returned
    reserve_entry_id: str
    settle_entry_id: str | None = None


@dataclass(slots=True)
class Recovery:
    recovery_id: str
    budget_id: str
    amount: int
    recovered: int = 0


@dataclass
class Book:
    """The slice of ledger state a batch works on, with dirty tracking for the writer."""

    balances: dict[str, int] = field(default_factory=dict)
    budgets: dict[str, BudgetTerms] = field(default_factory=dict)
    orders: dict[str, OrderTerms] = field(default_factory=dict)
    schedules: dict[str, ScheduleTerms] = field(default_factory=dict)
    holds: dict[str, Hold] = field(default_factory=dict)
    recoveries: dict[str, Recovery] = field(default_factory=dict)
    invoices: set[str] = field(default_factory=set)  # "provider/invoice" approved
    processed: dict[str, tuple[str, str]] = field(default_factory=dict)  # event_id -> (hash, kind)
    heads: dict[str, tuple[int, str]] = field(default_factory=dict)  # shard -> (seq, hash)
    # event id -> why its posting was out of range (invariants.AmountOutOfRange): rejected before its rule runs
    refused: dict[str, str] = field(default_factory=dict)
    dirty: dict[str, set[str]] = field(default_factory=lambda: {k: set() for k in DIRTY_KINDS})

    def balance(self, account_id: str) -> int:
        return self.balances.get(account_id, 0)

    def available(self, account_id: str) -> int:
        """Credit balance of a credit-normal account."""
        return -self.balances.get(account_id, 0)

    def touch(self, kind: str, key: str) -> None:
        self.dirty[kind].add(key)

    def take_dirty(self) -> dict[str, set[str]]:
        taken, self.dirty = self.dirty, {k: set() for k in DIRTY_KINDS}
        return taken


DIRTY_KINDS: tuple[str, ...] = ("budgets", "orders", "schedules", "holds", "recoveries", "invoices")
