"""What this service can store and price of a command that the wire contract accepts.

The contract allows pence up to 2**63 - 1 (one bigint) and any calendar date (and refuses NUL in text, which
PostgreSQL cannot store; checked here too, for payloads built in code), but sums of such amounts overflow a
bigint, and pricing an order steps a day past its end (and the ledger's pricing a day before a segment's
start), which Python's dates cannot do from 9999-12-31 or 0001-01-01. A command carrying any of these would
fail its batch on every retry and stall the partition behind it, so the ingest dead-letters it
(INVALID_PAYLOAD) before it reaches the rules.
"""
from __future__ import annotations

from datetime import date

from pydantic import BaseModel

MAX_NUMBER = 10**15
"""The largest number a command may carry: £10 trillion in pence, hundreds of times England's yearly
adult social care spend. Keeps any stored sum (commitments within agreed amount + overspend limit)
far inside a bigint."""


def unstorable(payload: BaseModel) -> str | None:
    """Why `payload` cannot be stored, or None when it can. Allocation commands are flat models."""
    for name, value in payload.__dict__.items():
        if type(value) is int and value > MAX_NUMBER:
            return f"{name} is {value}, more than the largest number stored ({MAX_NUMBER})"
        if type(value) is str and "\x00" in value:
            return f"{name} contains a NUL character, which PostgreSQL cannot store"
        if type(value) is date and value in (date.min, date.max):
            return f"{name} is {value.isoformat()}, the calendar's edge, which cannot be priced (no day beyond it)"
    return None
