"""Recorded instants as the projections keep them: in UTC, within the calendar Python and asyncpg can write.

PostgreSQL's timestamptz holds any instant, but asyncpg first shifts it to UTC in Python, which fails for a
time within hours of the calendar's ends (0001-01-01T00:00:00+01:00, 9999-12-31T23:30:00-01:00:
OverflowError) and reads a time without an offset as the host's local time (year 1: ValueError). In a
consumer either failure stalls the partition; in a query it is a server error. The envelope contract refuses
both in `time` now (careschemas.envelope: an offset, 0001-01-02..9999-12-30 in UTC); the times people type
(`--known-at`, `--until`, the API's `known_at`) still come here.
"""
from __future__ import annotations

from datetime import UTC, datetime

EARLIEST = datetime.min.replace(tzinfo=UTC)
LATEST = datetime.max.replace(tzinfo=UTC)


def utc_instant(moment: datetime) -> datetime:
    """`moment` in UTC. A time without an offset is read as UTC, never as the host's zone (so every rebuild
    gives the same rows); one that leaves the calendar once shifted is the end it passed (at most 14 hours
    away), which asyncpg writes as -infinity (or infinity): before (or after) every other recorded time."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        return EARLIEST if moment.year == 1 else LATEST
