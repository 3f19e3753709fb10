"""Per-council settings as data: the local policies DOMAIN.md says are configuration, with its defaults.

A council without stored settings gets `CouncilPolicy()`. The service loads each council's policy
from its database (table council_policies) and hands it to every decision; nothing here is global.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from careschemas.common import ContributionMode

ALL_MODES: frozenset[str] = frozenset(m.value for m in ContributionMode)


class PolicyError(ValueError):
    """Stored settings that cannot be a CouncilPolicy (unknown key, wrong type or out of range)."""


@dataclass(frozen=True)
class CouncilPolicy:
    """A council's local allocation policy. All money in pence, all ratios in basis points (1/100 %)."""

    payment_frequency_weeks: int = 4
    """How often direct payments are paid, in advance (DOMAIN: typically every 4 weeks). Validated and
    stored only: no allocation decision or summary reads it, and the payments service schedules by its
    own per-council `dp_frequency_weeks`."""
    contribution_mode: str = ContributionMode.netted.value
    """The council's usual collection mode; must be one of the allowed modes. Validated and stored only:
    no decision reads it (a budget has no mode until AssessContribution sets one)."""
    allowed_contribution_modes: frozenset[str] = field(default=ALL_MODES)
    """Modes AssessContribution may choose (some councils only net)."""
    variance_tolerance_bp: int = 0
    """How far (basis points of the indicative amount) an agreed budget may differ from the indicative
    one without a variance_reason. 0: any difference needs a reason."""

    def __post_init__(self) -> None:
        if not 1 <= self.payment_frequency_weeks <= 52:
            raise PolicyError("payment_frequency_weeks must be 1..52")
        if self.contribution_mode not in ALL_MODES:
            raise PolicyError(f"contribution_mode must be one of {sorted(ALL_MODES)}")
        if not self.allowed_contribution_modes or not self.allowed_contribution_modes <= ALL_MODES:
            raise PolicyError(f"allowed_contribution_modes must be a non-empty subset of {sorted(ALL_MODES)}")
        if self.contribution_mode not in self.allowed_contribution_modes:
            raise PolicyError("contribution_mode must be one of allowed_contribution_modes")
        if not 0 <= self.variance_tolerance_bp <= 10_000:
            raise PolicyError("variance_tolerance_bp must be 0..10000")

    @classmethod
    def from_mapping(cls, settings: Mapping[str, Any]) -> CouncilPolicy:
        """Build from stored settings (JSON); unknown keys and wrong types are refused, not ignored."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(settings) - known)
        if unknown:
            raise PolicyError(f"unknown policy settings: {', '.join(unknown)}")
        values = dict(settings)
        for name in ("payment_frequency_weeks", "variance_tolerance_bp"):
            if name in values and (not isinstance(values[name], int) or isinstance(values[name], bool)):
                raise PolicyError(f"{name} must be an integer")
        if "allowed_contribution_modes" in values:
            modes = values["allowed_contribution_modes"]
            if isinstance(modes, str) or not all(isinstance(m, str) for m in modes):
                raise PolicyError("allowed_contribution_modes must be a list of modes")
            values["allowed_contribution_modes"] = frozenset(modes)
        return cls(**values)

    def to_mapping(self) -> dict[str, Any]:
        return {
            "payment_frequency_weeks": self.payment_frequency_weeks,
            "contribution_mode": self.contribution_mode,
            "allowed_contribution_modes": sorted(self.allowed_contribution_modes),
            "variance_tolerance_bp": self.variance_tolerance_bp,
        }

    def needs_variance_reason(self, agreed: int, indicative: int) -> bool:
        """True when `agreed` differs from `indicative` by more than the tolerance."""
        return abs(agreed - indicative) * 10_000 > indicative * self.variance_tolerance_bp


DEFAULT_POLICY = CouncilPolicy()
