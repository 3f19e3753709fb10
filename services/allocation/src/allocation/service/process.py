"""One batch of commands decided against the state loaded for it: idempotency, the decision, the
events applied, and what must be written. Pure and synchronous (the ingest does the I/O around it).

Order: provider commands first, then budget commands, each in (partition, offset) order. Commands of
one aggregate share a key and so a partition, which keeps their order; running the provider commands
first lets a provider registered in a batch be used by an order commissioned in the same batch.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from careschemas import allocation_events as ev
from careschemas.common import Command, Event
from careschemas.envelope import Envelope

from ..adapters import wire
from ..domain import reasons
from ..domain.decide import BUDGET, PROVIDER, aggregate_id, decide, handler_for
from ..domain.evolve import evolve_budget, evolve_provider
from ..domain.model import Budget, Context, Provider, Rejection
from ..domain.policy import DEFAULT_POLICY, CouncilPolicy

ACCEPTED, REJECTED, DUPLICATE, CONFLICT = "accepted", "rejected", "duplicate", "conflict"


@dataclass(frozen=True, slots=True)
class Item:
    """One decoded allocation command from the batch."""

    topic: str
    partition: int
    offset: int
    envelope: Envelope
    command: Command
    content_hash: str

    @property
    def kind(self) -> str:
        return handler_for(self.command).kind


@dataclass(slots=True)
class Seen:
    """What became of a command id before: its first content hash, outcome and council, and conflicting
    hashes."""

    content_hash: str
    outcome: str
    conflicts: set[str] = field(default_factory=set)
    council: str = ""


@dataclass
class Loaded:
    """The slice of state a batch works on, per council, with what the batch changed."""

    budgets: dict[tuple[str, str], Budget] = field(default_factory=dict)
    providers: dict[str, dict[str, Provider]] = field(default_factory=dict)  # council -> id -> provider
    order_budgets: dict[str, dict[str, str]] = field(default_factory=dict)  # council -> order id -> budget id
    policies: dict[str, CouncilPolicy] = field(default_factory=dict)
    invalid_policies: dict[str, str] = field(default_factory=dict)  # council -> why its stored row is refused
    processed: dict[str, Seen] = field(default_factory=dict)
    dirty_budgets: set[tuple[str, str]] = field(default_factory=set)
    dirty_orders: set[tuple[str, str, str]] = field(default_factory=set)  # (council, budget, order)
    new_orders: set[tuple[str, str]] = field(default_factory=set)  # (council, order)
    dirty_providers: set[tuple[str, str]] = field(default_factory=set)

    def context(self, council: str) -> Context:
        return Context(self.policies.get(council, DEFAULT_POLICY), self.providers.setdefault(council, {}),
                       self.order_budgets.setdefault(council, {}))


@dataclass(frozen=True, slots=True)
class Outcome:
    item: Item
    kind: str  # ACCEPTED | REJECTED | DUPLICATE | CONFLICT
    events: tuple[tuple[str, Event], ...] = ()  # (event id, event) to publish
    rejection: Rejection | None = None

    @property
    def recorded(self) -> bool:
        """Whether the outcome is a new row in processed_commands (a duplicate is not)."""
        return self.kind != DUPLICATE


def ordered(items: Iterable[Item]) -> list[Item]:
    return sorted(items, key=lambda i: (i.kind != PROVIDER, i.topic, i.partition, i.offset))


def process(items: Iterable[Item], loaded: Loaded) -> list[Outcome]:
    """Decide every item in order, applying accepted events to `loaded` as it goes."""
    return [_one(item, loaded) for item in ordered(items)]


def _one(item: Item, loaded: Loaded) -> Outcome:
    env, cmd = item.envelope, item.command
    seen = loaded.processed.get(env.id)
    if seen is not None:
        if item.content_hash == seen.content_hash or item.content_hash in seen.conflicts:
            return Outcome(item, DUPLICATE)
        seen.conflicts.add(item.content_hash)
        # Command ids are global: another council learns only that the id is taken, not what became of it.
        first = f"its first outcome ({seen.outcome}) stands" if seen.council == env.councilid else "it stands"
        rejection = Rejection(reasons.DUPLICATE_CONFLICT,
                              f"command id {env.id} was already used with different content; {first}")
        event_id = wire.conflict_event_id(env.id, item.content_hash)
        return Outcome(item, CONFLICT, ((event_id, wire.rejection_event(env, cmd, rejection)),), rejection)

    council = env.councilid
    key = (council, aggregate_id(cmd))
    if council in loaded.invalid_policies:  # nothing of this council can be decided until it is fixed
        decision: Any = Rejection(reasons.POLICY_INVALID, f"the council's stored policy is not valid "
                                                          f"({loaded.invalid_policies[council]}); nothing was decided")
    else:
        state: Any = loaded.budgets.get(key) if item.kind == BUDGET else loaded.providers.get(council, {}).get(key[1])
        decision = decide(state, cmd, loaded.context(council))
    if isinstance(decision, Rejection):
        loaded.processed[env.id] = Seen(item.content_hash, REJECTED, council=council)
        event = wire.rejection_event(env, cmd, decision)
        return Outcome(item, REJECTED, ((wire.event_ids(env.id, 1)[0], event),), decision)

    for event in decision:
        _apply(loaded, council, key, event)
    loaded.processed[env.id] = Seen(item.content_hash, ACCEPTED, council=council)
    return Outcome(item, ACCEPTED, tuple(zip(wire.event_ids(env.id, len(decision)), decision, strict=True)))


def _apply(loaded: Loaded, council: str, key: tuple[str, str], event: Event) -> None:
    if isinstance(event, (ev.ProviderRegistered, ev.ProviderBankDetailsChanged)):
        providers = loaded.providers.setdefault(council, {})
        providers[key[1]] = evolve_provider(providers.get(key[1]), event, council)
        loaded.dirty_providers.add(key)
        return
    loaded.budgets[key] = evolve_budget(loaded.budgets.get(key), event, council)
    loaded.dirty_budgets.add(key)
    order_id = getattr(event, "order_id", None)
    if order_id is not None:
        loaded.dirty_orders.add((council, key[1], order_id))
        if isinstance(event, ev.ServiceOrderCommissioned):
            loaded.new_orders.add((council, order_id))
            loaded.order_budgets.setdefault(council, {})[order_id] = key[1]
