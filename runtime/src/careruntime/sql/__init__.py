"""SQL shipped with the runtime: the plumbing tables (offsets, outbox) each service's migration applies.

A service's yoyo migration does::

    from careruntime.sql import PLUMBING_SQL, PLUMBING_ROLLBACK_SQL
    steps = [step(PLUMBING_SQL, PLUMBING_ROLLBACK_SQL)]
"""
from importlib.resources import files

PLUMBING_SQL: str = files(__name__).joinpath("plumbing.sql").read_text(encoding="utf-8")

PLUMBING_ROLLBACK_SQL = """
DROP TRIGGER IF EXISTS outbox_notify ON outbox;
DROP FUNCTION IF EXISTS outbox_notify();
DROP TABLE IF EXISTS outbox;
DROP TABLE IF EXISTS consumer_offsets;
"""

# The channel the outbox trigger notifies; the relay LISTENs on it.
OUTBOX_CHANNEL = "outbox"

__all__ = ["PLUMBING_SQL", "PLUMBING_ROLLBACK_SQL", "OUTBOX_CHANNEL"]
