"""Report parameters: the ones each report takes (ReportSpec.params) and how a value of each is checked.

A parameter the report does not take (a typo such as `perod=quarter` gave the default report, silently), or a
value it cannot use (`target=nan`, `period=week` only once there were rows to label), is refused with its
reason before the report runs: HTTP 422, CLI exit 2.
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Mapping
from datetime import date

from careschemas.envelope import ID_PATTERN

from ..domain.periods import PERIODS


class BadParameter(ValueError):
    """A parameter the report does not take, or a value it cannot use."""


def _day(value: str) -> None:
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise ValueError("expected a date YYYY-MM-DD")
    date.fromisoformat(value)


def _share(value: str) -> None:
    share = float(value)
    if not (math.isfinite(share) and 0 <= share <= 1):
        raise ValueError("expected a share from 0 to 1, e.g. 0.8")


def _one_of(*choices: str) -> Callable[[str], None]:
    def check(value: str) -> None:
        if value not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}")
    return check


def _id(value: str) -> None:
    if not re.fullmatch(ID_PATTERN, value):
        raise ValueError("expected an id such as PB-1")


CHECKS: dict[str, Callable[[str], None]] = {
    "from": _day, "period": _one_of(*PERIODS), "target": _share, "level": _one_of("account", "group"),
    "budget_id": _id,
}


def check_params(params: Mapping[str, str], takes: Collection[str]) -> None:
    """BadParameter unless every parameter is one of `takes` and its value passes its check."""
    for name, value in params.items():
        if name not in takes:
            raise BadParameter(f"{name}: not a parameter of this report (it takes: {', '.join(sorted(takes)) or 'none'})")
        try:
            CHECKS[name](value)
        except ValueError as exc:
            raise BadParameter(f"{name}={value!r}: {exc}") from None
