"""Surplus recovery: a DP account may hold at most `surplus_weeks` weeks of payments after its
liabilities; anything more is recovered, by offset against the next payments or by invoice.

Pure arithmetic on integers (pence); the service decides when to ask (a reported balance).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Surplus:
    amount_pence: int
    weeks_in_credit: int


def weekly_rate(amount_per_period: int, frequency_weeks: int) -> int:
    """The DP's weekly amount (pence, rounded down)."""
    return amount_per_period // frequency_weeks


def assess_surplus(balance_pence: int, liabilities_pence: int, weekly_pence: int, allowed_weeks: int) -> Surplus | None:
    """The surplus over `allowed_weeks` weeks of payments after liabilities, or None when there is none."""
    free = balance_pence - liabilities_pence
    if weekly_pence <= 0 or free <= weekly_pence * allowed_weeks:
        return None
    return Surplus(free - weekly_pence * allowed_weeks, free // weekly_pence)


def offset(amount_due: int, outstanding: int) -> tuple[int, int]:
    """(what is still paid, what is recovered) when `outstanding` is offset against a payment."""
    recovered = min(amount_due, outstanding)
    return amount_due - recovered, recovered
