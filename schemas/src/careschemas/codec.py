"""Bytes on the wire <-> envelope and typed payload, with the dead-letter reason when decoding fails.

`encode` writes compact JSON with sorted keys (stable bytes for the same envelope); `decode` tells a
consumer exactly which DLQ reason applies: MALFORMED_JSON, INVALID_ENVELOPE, UNKNOWN_TYPE or INVALID_PAYLOAD.
This is the plain reference implementation; the services' hot path (careruntime.codec) produces the same
bytes and codes with orjson.
"""
from __future__ import annotations

import json

from pydantic import BaseModel, ValidationError

from .envelope import Envelope
from .registry import MODELS


class DecodeError(ValueError):
    """A message that must go to the dead-letter topic; `reason` (alias `code`) is its DLQ reason code."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = self.code = reason
        self.detail = detail


def encode(envelope: Envelope) -> bytes:
    """The message value of an envelope (UTF-8 JSON, sorted keys, no spaces)."""
    return json.dumps(envelope.model_dump(mode="json"), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def decode(value: bytes | str, *, expected_types: frozenset[str] | None = None) -> tuple[Envelope, BaseModel]:
    """The envelope and typed payload of a message value. Raises DecodeError with the DLQ reason.

    `expected_types` (e.g. the types of the topic being read) turns a known type on the wrong topic into
    UNKNOWN_TYPE as well.
    """
    try:
        raw = json.loads(value)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DecodeError("MALFORMED_JSON", str(exc)) from None
    if not isinstance(raw, dict):
        raise DecodeError("MALFORMED_JSON", f"expected a JSON object, got {type(raw).__name__}")
    try:
        envelope = Envelope.model_validate(raw)
    except ValidationError as exc:
        raise DecodeError("INVALID_ENVELOPE", _brief(exc)) from None
    model = MODELS.get(envelope.type)
    if model is None or (expected_types is not None and envelope.type not in expected_types):
        raise DecodeError("UNKNOWN_TYPE", envelope.type)
    try:
        payload = model.model_validate(envelope.data)
    except ValidationError as exc:
        raise DecodeError("INVALID_PAYLOAD", _brief(exc)) from None
    return envelope, payload


def _brief(exc: ValidationError, limit: int = 5) -> str:
    parts = [f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in exc.errors()[:limit]]
    return "; ".join(parts)[:1000]
