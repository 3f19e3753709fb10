"""Ids of the events a message leads to, derived from the message's own id, so that a resend of the message
leads to events of the same ids (and its consumers see them as the same events).

An id is the stem, a service's marker and a count: `c-17.e1`. The stem is the message id and '.', or, when
that leaves no room for the suffix, 'h' + 40 hex digits of the id's SHA-256 and ':' (still derived, still
unique; the ':' keeps it apart from a message sent under that hash, itself a valid id, whose stem ends '.').
Envelope ids are global and the ledger dedupes the events it reads by id alone, so each service that derives
ids has its own marker: one command id used at two services leads to different event ids.
"""
from __future__ import annotations

import hashlib
from typing import Final

MAX_ID: Final = 128  # careschemas.envelope.ID_PATTERN
ALLOCATION: Final = "e"
PAYMENTS: Final = "p"


def stem(message_id: str, longest_suffix: int) -> str:
    """What the ids derived from `message_id` start with, leaving room for a suffix of `longest_suffix`."""
    if len(message_id) + 1 + longest_suffix <= MAX_ID:
        return message_id + "."
    return "h" + hashlib.sha256(message_id.encode()).hexdigest()[:40] + ":"
