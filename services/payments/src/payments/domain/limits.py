"""What one stored number can hold: 2^63 - 1 pence (a PostgreSQL bigint, and the contract's Pence) and
2^31 - 1 for a count (the contract's Count). Every input is within them, but a number the service works
out from several may not be: a provider's credit owed back over several credit notes, the weeks a tiny
direct payment's balance lasts. Stored or sent as it is, such a number would fail its batch on every
retry and stall the partition, so the command is refused AMOUNT_OUT_OF_RANGE instead (a payment run
leaves what would not fit for the next run: domain.runs).
"""
from __future__ import annotations

from careschemas.common import MAX_COUNT, MAX_INT

from . import reasons
from .model import Rejection

MAX_PENCE = MAX_INT


def beyond(what: str, value: int, limit: int = MAX_PENCE) -> Rejection | None:
    """AMOUNT_OUT_OF_RANGE when `value` is more than `limit`, else None."""
    if value > limit:
        return Rejection(reasons.AMOUNT_OUT_OF_RANGE, f"{what} would be {value}, more than the {limit} it can hold")
    return None


def beyond_count(what: str, value: int) -> Rejection | None:
    return beyond(what, value, MAX_COUNT)
