"""asyncpg repository of the allocation service: load the slice of state a batch needs (one query per
kind), and write what the batch changed (set-based: unnest upserts and one COPY), inside the batch
transaction the consumer opened.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

import orjson
import structlog

from ..domain.decide import BUDGET, PROVIDER, aggregate_id
from ..domain.policy import CouncilPolicy, PolicyError
from ..service.process import ACCEPTED, CONFLICT, Item, Loaded, Outcome, Seen
from . import state_codec

log = structlog.get_logger("allocation.repository")

_PROCESSED_COLUMNS = ("command_id", "content_hash", "conflict", "council_id", "command_type", "outcome",
                      "reason_code", "event_ids", "source_topic", "source_partition", "source_offset")


def _pairs(keys: Iterable[tuple[str, str]]) -> tuple[list[str], list[str]]:
    keys = sorted(set(keys))
    return [k[0] for k in keys], [k[1] for k in keys]


def _json(data) -> str:
    return orjson.dumps(data).decode()


async def load(conn, items: Sequence[Item]) -> Loaded:
    """Everything the batch's commands refer to: their budgets (with orders), providers, the orders
    ids they create, the councils' policies and the command ids seen before."""
    loaded = Loaded()
    budget_keys, provider_keys, order_keys, councils = set(), set(), set(), set()
    for item in items:
        council, cmd = item.envelope.councilid, item.command
        councils.add(council)
        if item.kind == BUDGET:
            budget_keys.add((council, aggregate_id(cmd)))
            if getattr(cmd, "provider_id", None):  # commissioning names a provider
                provider_keys.add((council, cmd.provider_id))
            if getattr(cmd, "order_id", None):
                order_keys.add((council, cmd.order_id))
        elif item.kind == PROVIDER:
            provider_keys.add((council, aggregate_id(cmd)))

    for r in await conn.fetch("SELECT command_id, content_hash, conflict, outcome, council_id FROM processed_commands "
                              "WHERE command_id = ANY($1::text[])", sorted({i.envelope.id for i in items})):
        seen = loaded.processed.setdefault(r["command_id"], Seen("", ""))
        if r["conflict"]:
            seen.conflicts.add(r["content_hash"])
        else:
            seen.content_hash, seen.outcome, seen.council = r["content_hash"], r["outcome"], r["council_id"]

    if budget_keys:
        rows = await conn.fetch(
            "SELECT b.council_id, b.budget_id, b.data FROM budgets b "
            "JOIN unnest($1::text[], $2::text[]) AS k(council_id, budget_id) USING (council_id, budget_id)",
            *_pairs(budget_keys))
        for r in rows:
            loaded.budgets[(r["council_id"], r["budget_id"])] = state_codec.load_budget(orjson.loads(r["data"]), {})

    if budget_keys or order_keys:
        rows = await conn.fetch(
            "SELECT o.council_id, o.order_id, o.budget_id, o.data FROM service_orders o "
            "WHERE (o.council_id, o.budget_id) IN (SELECT * FROM unnest($1::text[], $2::text[])) "
            "   OR (o.council_id, o.order_id) IN (SELECT * FROM unnest($3::text[], $4::text[]))",
            *_pairs(budget_keys), *_pairs(order_keys))
        for r in rows:
            council, budget_id = r["council_id"], r["budget_id"]
            loaded.order_budgets.setdefault(council, {})[r["order_id"]] = budget_id
            budget = loaded.budgets.get((council, budget_id))
            if budget is not None:
                budget.orders[r["order_id"]] = state_codec.load_order(orjson.loads(r["data"]))

    if provider_keys:
        rows = await conn.fetch(
            "SELECT p.council_id, p.provider_id, p.data FROM providers p "
            "JOIN unnest($1::text[], $2::text[]) AS k(council_id, provider_id) USING (council_id, provider_id)",
            *_pairs(provider_keys))
        for r in rows:
            loaded.providers.setdefault(r["council_id"], {})[r["provider_id"]] = \
                state_codec.load_provider(orjson.loads(r["data"]))

    if councils:
        for r in await conn.fetch("SELECT council_id, settings FROM council_policies WHERE council_id = ANY($1::text[])",
                                  sorted(councils)):
            try:
                loaded.policies[r["council_id"]] = CouncilPolicy.from_mapping(orjson.loads(r["settings"]))
            except (PolicyError, TypeError, AttributeError) as exc:  # a row written by hand, not by `policy`
                loaded.invalid_policies[r["council_id"]] = str(exc) or type(exc).__name__
                log.error("stored policy not valid: the council's commands are rejected POLICY_INVALID until "
                          "it is fixed", council_id=r["council_id"], reason=str(exc))
    return loaded


async def write(conn, loaded: Loaded, outcomes: Sequence[Outcome]) -> None:
    """Persist the batch: budgets, then their orders (new ones by plain INSERT, so a race on an order
    id fails the batch instead of overwriting), providers, and the processed-command rows."""
    await _write_budgets(conn, loaded)
    await _write_orders(conn, loaded)
    await _write_providers(conn, loaded)
    rows = [_processed_row(o) for o in outcomes if o.recorded]
    if rows:
        await conn.copy_records_to_table("processed_commands", records=rows, columns=_PROCESSED_COLUMNS)


def _processed_row(outcome: Outcome) -> tuple:
    item, env = outcome.item, outcome.item.envelope
    return (env.id, item.content_hash, outcome.kind == CONFLICT, env.councilid, env.type,
            ACCEPTED if outcome.kind == ACCEPTED else "rejected",
            outcome.rejection.code if outcome.rejection else None,
            [event_id for event_id, _ in outcome.events], item.topic, item.partition, item.offset)


async def _write_budgets(conn, loaded: Loaded) -> None:
    keys = sorted(loaded.dirty_budgets)
    if not keys:
        return
    budgets = [loaded.budgets[k] for k in keys]
    await conn.execute(
        "INSERT INTO budgets (council_id, budget_id, person_ref, status, amount_pence, committed_pence, version, data) "
        "SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], "
        "                     $7::int[], $8::jsonb[]) "
        "ON CONFLICT (council_id, budget_id) DO UPDATE SET person_ref = EXCLUDED.person_ref, "
        "  status = EXCLUDED.status, amount_pence = EXCLUDED.amount_pence, "
        "  committed_pence = EXCLUDED.committed_pence, version = EXCLUDED.version, data = EXCLUDED.data, "
        "  updated_at = now()",
        [k[0] for k in keys], [k[1] for k in keys], [b.person_ref for b in budgets], [b.status for b in budgets],
        [b.amount_pence for b in budgets], [b.committed_pence for b in budgets], [b.version for b in budgets],
        [_json(state_codec.dump_budget(b)) for b in budgets])


async def _write_orders(conn, loaded: Loaded) -> None:
    fresh, changed = [], []
    for council, budget_id, order_id in sorted(loaded.dirty_orders):
        order = loaded.budgets[(council, budget_id)].orders[order_id]
        row = (council, order_id, budget_id, order.provider_id, order.status, order.commitment,
               _json(state_codec.dump_order(order)))
        (fresh if (council, order_id) in loaded.new_orders else changed).append(row)
    columns = list(zip(*fresh)) if fresh else None
    if columns:
        await conn.execute(
            "INSERT INTO service_orders (council_id, order_id, budget_id, provider_id, status, commitment_pence, data) "
            "SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], "
            "                     $7::jsonb[])", *map(list, columns))
    if changed:
        columns = list(zip(*changed))
        await conn.execute(
            "UPDATE service_orders o SET status = u.status, commitment_pence = u.commitment_pence, data = u.data, "
            "  updated_at = now() "
            "FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::jsonb[]) "
            "  AS u(council_id, order_id, budget_id, provider_id, status, commitment_pence, data) "
            "WHERE o.council_id = u.council_id AND o.order_id = u.order_id AND o.budget_id = u.budget_id",
            *map(list, columns))


async def _write_providers(conn, loaded: Loaded) -> None:
    keys = sorted(loaded.dirty_providers)
    if not keys:
        return
    providers = [loaded.providers[c][p] for c, p in keys]
    await conn.execute(
        "INSERT INTO providers (council_id, provider_id, provider_type, name, version, data) "
        "SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::jsonb[]) "
        "ON CONFLICT (council_id, provider_id) DO UPDATE SET provider_type = EXCLUDED.provider_type, "
        "  name = EXCLUDED.name, version = EXCLUDED.version, data = EXCLUDED.data, updated_at = now()",
        [k[0] for k in keys], [k[1] for k in keys], [p.provider_type for p in providers],
        [p.name for p in providers], [p.version for p in providers],
        [_json(state_codec.dump_provider(p)) for p in providers])


async def load_policy(conn, council_id: str) -> CouncilPolicy:
    settings = await conn.fetchval("SELECT settings FROM council_policies WHERE council_id = $1", council_id)
    return CouncilPolicy.from_mapping(orjson.loads(settings)) if settings else CouncilPolicy()


async def save_policy(conn, council_id: str, policy: CouncilPolicy) -> None:
    await conn.execute(
        "INSERT INTO council_policies (council_id, settings) VALUES ($1, $2::jsonb) "
        "ON CONFLICT (council_id) DO UPDATE SET settings = EXCLUDED.settings, updated_at = now()",
        council_id, _json(policy.to_mapping()))
