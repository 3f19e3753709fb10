"""Per-council payments policy as data (DOMAIN.md: local policies are configuration, defaults shown).

A council without stored settings gets `PaymentsPolicy()`. Stored in the council_policies table and
changed with `python -m payments policy COUNCIL KEY=JSON ...`; every decision receives it.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

RECOVERY_METHODS = ("offset", "invoice")


class PolicyError(ValueError):
    """Stored settings that cannot be a PaymentsPolicy (unknown key, wrong type or out of range)."""


@dataclass(frozen=True)
class PaymentsPolicy:
    """A council's local payments policy. Money in pence, ratios in basis points (1/100 %)."""

    dp_frequency_weeks: int = 4
    """Direct payments are paid every this many weeks, in advance, when a schedule does not say."""
    invoice_tolerance_bp: int = 0
    """How far (basis points) an invoice line's units may exceed the order's planned units, and its
    rate the order's rate, before the invoice is held. DOMAIN default: 0 %."""
    surplus_weeks: int = 8
    """A DP account holding more than this many weeks of payments after liabilities raises a recovery."""
    recovery_method: str = "offset"
    """How a surplus is recovered: offset against the next payments, or invoiced to the person."""
    timer_lead_days: int = 0
    """The timer makes a period due this many days before its due date (for runs made in advance)."""

    def __post_init__(self) -> None:
        if not 1 <= self.dp_frequency_weeks <= 52:
            raise PolicyError("dp_frequency_weeks must be 1..52")
        if not 0 <= self.invoice_tolerance_bp <= 10_000:
            raise PolicyError("invoice_tolerance_bp must be 0..10000")
        if not 1 <= self.surplus_weeks <= 104:
            raise PolicyError("surplus_weeks must be 1..104")
        if self.recovery_method not in RECOVERY_METHODS:
            raise PolicyError(f"recovery_method must be one of {RECOVERY_METHODS}")
        if not 0 <= self.timer_lead_days <= 60:
            raise PolicyError("timer_lead_days must be 0..60")

    @classmethod
    def from_mapping(cls, settings: Mapping[str, Any]) -> PaymentsPolicy:
        """Build from stored settings (JSON); unknown keys and wrong types are refused, not ignored."""
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(settings) - set(known))
        if unknown:
            raise PolicyError(f"unknown policy settings: {', '.join(unknown)}")
        for name, value in settings.items():
            wanted = int if known[name].type in ("int", int) else str
            if not isinstance(value, wanted) or isinstance(value, bool):
                raise PolicyError(f"{name} must be {'an integer' if wanted is int else 'a string'}")
        return cls(**settings)

    def to_mapping(self) -> dict[str, Any]:
        return asdict(self)


DEFAULT_POLICY = PaymentsPolicy()
