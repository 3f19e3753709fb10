"""Aggregate state to and from the JSON stored in PostgreSQL (and in the budget view's table).

Plain dicts with ISO dates; a budget's orders are stored as rows of their own, so `dump_budget`
leaves them out unless asked (the view keeps the whole budget in one value).
"""
from __future__ import annotations

from dataclasses import fields
from datetime import date
from typing import Any

from ..domain.model import Budget, Order, Provider, Route

_BUDGET_DATES = ("start_date", "end_date", "ended_on", "died_on")
_ORDER_DATES = ("start_date", "end_date", "segment_start")
_PROVIDER_DATES = ("bank_changed_on",)
# Field names, read once: the aggregates are flat, so a dict of their fields is their stored form
# (dataclasses' own deep-copying conversion cost more than the rest of a batch's write).
_ORDER_FIELDS = tuple(f.name for f in fields(Order))
_ROUTE_FIELDS = tuple(f.name for f in fields(Route))
_PROVIDER_FIELDS = tuple(f.name for f in fields(Provider))
_BUDGET_FIELDS = tuple(f.name for f in fields(Budget) if f.name not in ("routes", "orders"))


def _flat(obj: Any, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in names}


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value is not None else None


def dump_order(order: Order) -> dict[str, Any]:
    data = _flat(order, _ORDER_FIELDS)
    for name in _ORDER_DATES:
        data[name] = _iso(data[name])
    return data


def load_order(data: dict[str, Any]) -> Order:
    values = dict(data)
    for name in _ORDER_DATES:
        values[name] = _day(values[name])
    return Order(**values)


def dump_budget(budget: Budget, with_orders: bool = False) -> dict[str, Any]:
    data = _flat(budget, _BUDGET_FIELDS)
    for name in _BUDGET_DATES:
        data[name] = _iso(data[name])
    data["routes"] = {name: _flat(route, _ROUTE_FIELDS) for name, route in sorted(budget.routes.items())}
    if with_orders:
        data["orders"] = {oid: dump_order(o) for oid, o in sorted(budget.orders.items())}
    return data


def load_budget(data: dict[str, Any], orders: dict[str, Order] | None = None) -> Budget:
    values = dict(data)
    for name in _BUDGET_DATES:
        values[name] = _day(values[name])
    values["routes"] = {name: Route(**r) for name, r in values.get("routes", {}).items()}
    stored_orders = values.pop("orders", None) or {}
    values["orders"] = dict(orders) if orders is not None else {k: load_order(v) for k, v in stored_orders.items()}
    return Budget(**values)


def dump_provider(provider: Provider) -> dict[str, Any]:
    data = _flat(provider, _PROVIDER_FIELDS)
    for name in _PROVIDER_DATES:
        data[name] = _iso(data[name])
    return data


def load_provider(data: dict[str, Any]) -> Provider:
    values = dict(data)
    for name in _PROVIDER_DATES:
        values[name] = _day(values[name])
    return Provider(**values)
