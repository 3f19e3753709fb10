"""The wire side of a command's outcome: its content hash, the ids of the events it leads to, and the
envelopes and outbox rows those events travel in.

Everything here is deterministic, so a command decided again (after a crash before commit) produces
byte-identical messages: event ids derive from the command id, the recorded time is the command's,
and the key is `careschemas.topics.message_key` of the event.
"""
from __future__ import annotations

import hashlib

import orjson
from careruntime.event_ids import ALLOCATION, stem
from careruntime.outbox import OutboxRow
from careschemas.allocation_events import CommandRejected
from careschemas.common import Command, Event
from careschemas.envelope import Envelope
from careschemas.registry import make_envelope
from careschemas.topics import message_key

from ..domain.model import Rejection

SOURCE = "urn:careledger:allocation"


def command_hash(envelope: Envelope) -> str:
    """sha256 of what a command asks for: its type, council and data (canonical JSON).

    Transport attributes (time, source, subject, correlation and causation ids) are left out on
    purpose: a case system that rebuilds the envelope when it retries sends the same command, and must
    get the same outcome rather than a DUPLICATE_CONFLICT.
    """
    canonical = orjson.dumps({"type": envelope.type, "councilid": envelope.councilid, "data": envelope.data},
                             option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


def event_ids(command_id: str, count: int) -> list[str]:
    """`<command id>.e1` .. `.eN`: the ids of the events a command leads to (deterministic)."""
    start = stem(command_id, len(f"{ALLOCATION}{count}"))
    return [f"{start}{ALLOCATION}{n}" for n in range(1, count + 1)]


def conflict_event_id(command_id: str, content_hash: str) -> str:
    """Id of the DUPLICATE_CONFLICT rejection of one conflicting content (a resend of it emits nothing)."""
    suffix = f"c{content_hash[:16]}"
    return stem(command_id, len(suffix)) + suffix


def rejection_event(command: Envelope, payload: Command, rejection: Rejection) -> CommandRejected:
    return CommandRejected(command_id=command.id, command_type=command.type, reason_code=rejection.code,
                           detail=rejection.detail[:2000], effective_date=payload.effective_date)


def subject_of(event: Event, command: Envelope) -> str:
    """The aggregate an event is about; a rejection is about the command's aggregate."""
    if isinstance(event, CommandRejected):
        return command.subject
    return getattr(event, "budget_id", None) or event.provider_id


def envelope_for(event: Event, event_id: str, command: Envelope) -> Envelope:
    return make_envelope(event, id=event_id, source=SOURCE, subject=subject_of(event, command),
                         council_id=command.councilid, correlation_id=command.correlationid,
                         causation_id=command.id, time=command.time)


def outbox_row(topic: str, event: Event, event_id: str, command: Envelope) -> OutboxRow:
    return OutboxRow.for_event(topic, envelope_for(event, event_id, command), key=message_key(event))

