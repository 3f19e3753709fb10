"""What PostgreSQL can store of a command that the wire contract accepts.

The contract allows any size of non-negative pence and any characters in free text, but a bigint
column stops at 2**63 - 1 and PostgreSQL text and jsonb refuse the NUL character. A command carrying
either would fail its batch's write on every retry and stall the partition behind it, so the ingest
dead-letters it (INVALID_PAYLOAD) before it reaches the rules.
"""
from __future__ import annotations

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
    return None
