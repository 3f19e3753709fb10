"""Wire codec: CloudEvents envelopes to and from Kafka record values, and their content hash.

Owns the byte format of every record value (compact UTF-8 JSON, keys sorted at every level: the same
bytes as careschemas.codec.encode, made with orjson), the Kafka `content-type` header, the reason
codes of an undecodable record (`DecodeError.code`) and the canonical content hash that idempotency
checks compare ("same id and same hash = same outcome; same id and a different hash = conflict").

Decoding is the hot path of every consumer, so it parses each value once (in pydantic-core, straight
from bytes) and resolves payload validators through a per-process cache of the registry lookup. The content
hash of a decoded record is computed from the validated envelope without pydantic's model_dump
(`_canonical_bytes`): the same bytes as `encode`, tested on every registered type and on the
spellings JSON allows, in about half the time.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final, NamedTuple, TypeVar

import orjson
from careschemas.envelope import CONTENT_TYPE, Envelope
from pydantic import BaseModel, ValidationError

MALFORMED_JSON: Final = "MALFORMED_JSON"
INVALID_ENVELOPE: Final = "INVALID_ENVELOPE"
UNKNOWN_TYPE: Final = "UNKNOWN_TYPE"
INVALID_PAYLOAD: Final = "INVALID_PAYLOAD"
DECODE_ERROR_CODES: Final = (MALFORMED_JSON, INVALID_ENVELOPE, UNKNOWN_TYPE, INVALID_PAYLOAD)

CONTENT_TYPE_HEADER: Final = "content-type"
# The Kafka binding's structured mode: the whole event is the value, this header says so.
KAFKA_HEADERS: Final[list[tuple[str, bytes]]] = [(CONTENT_TYPE_HEADER, CONTENT_TYPE.encode())]
OUTBOX_HEADERS: Final[dict[str, str]] = {CONTENT_TYPE_HEADER: CONTENT_TYPE}

_DETAIL_MAX = 300
K = TypeVar("K")


class DecodeError(Exception):
    """A record value that cannot become a typed event; `code` is one of DECODE_ERROR_CODES."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


class Decoded(NamedTuple):
    """A decoded record: the validated envelope and its payload as the registry's typed model.

    A NamedTuple (immutable, and built faster than a frozen dataclass: one per record consumed)."""

    envelope: Envelope
    payload: BaseModel

    @property
    def content_hash(self) -> str:
        # The envelope was validated from JSON, so `data` holds JSON values only: the fast canonical form.
        return hashlib.sha256(_canonical_bytes(self.envelope)).hexdigest()


def _default_resolver(type_name: str) -> type[BaseModel] | None:
    from careschemas.registry import payload_model  # the registry is imported once, on first use

    return payload_model(type_name)


class _ValidatorCache:
    """Memoises type name -> the payload model's pydantic-core validator, including misses, so the
    registry is asked once per type.

    The validator is what `Model.model_validate` calls, called directly: the same validation, without
    the keyword arguments that wrapper passes on every call (`python -m caretools.bench_hotpath`)."""

    def __init__(self, resolve: Callable[[str], type[BaseModel] | None] = _default_resolver) -> None:
        self._resolve = resolve
        self._validators: dict[str, Any] = {}

        self.get = self._validators.get  # the hit path is one dict lookup

    def __call__(self, type_name: str) -> Any:
        if type_name not in self._validators:
            model = self._resolve(type_name)
            self._validators[type_name] = None if model is None else model.__pydantic_validator__
        return self._validators[type_name]


_payload_validators = _ValidatorCache()
# `Envelope.model_validate_json`'s validator, called directly for the same reason (with the payload's,
# ~1 µs per record less). Every model here is complete at import.
_validate_envelope = Envelope.__pydantic_validator__.validate_json


def _first_error(exc: ValidationError, prefix: str = "") -> str:
    err = exc.errors(include_url=False, include_input=False)[0]
    loc = ".".join(str(part) for part in err["loc"])
    where = f"{prefix}{loc}" if loc else (prefix.rstrip(".") or "value")
    more = exc.error_count() - 1
    detail = f"{where}: {err['msg']}" + (f" (and {more} more)" if more > 0 else "")
    return detail[:_DETAIL_MAX]


def _envelope_error(exc: ValidationError, raw: bytes) -> DecodeError:
    first = exc.errors(include_url=False, include_input=False)[0]
    if first["type"] == "json_invalid":
        return DecodeError(MALFORMED_JSON, f"not valid JSON: {first['msg']}"[:_DETAIL_MAX])
    if first["type"] == "model_type" and not first["loc"]:
        # Same code as careschemas.codec: a JSON document that is not an object is not a message.
        kind = type(orjson.loads(raw)).__name__
        return DecodeError(MALFORMED_JSON, f"expected a JSON object, got {kind}")
    return DecodeError(INVALID_ENVELOPE, _first_error(exc))


def _envelope_of(raw: bytes | None) -> Envelope:
    """The envelope of a record value, validated by pydantic straight from the bytes, or DecodeError."""
    if not raw:
        raise DecodeError(MALFORMED_JSON, "empty value")
    try:
        return _validate_envelope(raw)
    except ValidationError as exc:
        raise _envelope_error(exc, raw) from None


def decode(raw: bytes | None) -> Decoded:
    """Validate one record value into envelope and typed payload, or raise DecodeError."""
    envelope = _envelope_of(raw)
    validator = _payload_validators.get(envelope.type) or _payload_validators(envelope.type)
    if validator is None:
        raise DecodeError(UNKNOWN_TYPE, f"no payload model registered for {envelope.type}")
    try:
        payload = validator.validate_python(envelope.data)
    except ValidationError as exc:
        raise DecodeError(INVALID_PAYLOAD, _first_error(exc, "data.")) from None
    return Decoded(envelope, payload)


def decode_batch(records: Iterable[Any]) -> tuple[list[tuple[Any, Decoded]], list[tuple[Any, DecodeError]]]:
    """Decode many records (anything with `.value`); order within each list follows the input."""
    good: list[tuple[Any, Decoded]] = []
    bad: list[tuple[Any, DecodeError]] = []
    for record in records:
        try:
            good.append((record, decode(record.value)))
        except DecodeError as exc:
            bad.append((record, exc))
    return good, bad


def decode_partitions(
    batch: Mapping[K, Iterable[Any]],
) -> tuple[dict[K, list[tuple[Any, Decoded]]], dict[K, list[tuple[Any, DecodeError]]]]:
    """`decode_batch` per partition of a fetched batch; partitions without any are left out."""
    decoded, rejects = {}, {}
    for tp, records in batch.items():
        good, bad = decode_batch(records)
        if good:
            decoded[tp] = good
        if bad:
            rejects[tp] = bad
    return decoded, rejects


def encode(envelope: Envelope) -> bytes:
    """The record value for `envelope`: compact JSON, keys sorted at every level (deterministic)."""
    return orjson.dumps(envelope.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)


def content_hash(raw_or_envelope: bytes | Envelope) -> str:
    """sha256 hex of the canonical form of the whole envelope.

    The canonical form is `encode(envelope)`, so bytes are first validated as an Envelope: two values
    that differ only in spelling (key order, whitespace, `Z` versus `+00:00`) hash the same, and a
    value that is not an envelope raises DecodeError.
    """
    if isinstance(raw_or_envelope, Envelope):
        return hashlib.sha256(encode(raw_or_envelope)).hexdigest()  # `data` may hold any Python values
    return hashlib.sha256(_canonical_bytes(_envelope_of(raw_or_envelope))).hexdigest()


# The envelope fields `_canonical_bytes` knows how pydantic dumps: `time` by its datetime serializer
# (which orjson matches), every other field a str, None or (`data`) a dict of JSON values, which JSON
# mode leaves as they are. A field added to Envelope turns the shortcut off until it is checked (runtime/tests).
_PLAIN_FIELDS: Final = frozenset({"specversion", "id", "source", "type", "subject", "datacontenttype",
                                  "councilid", "correlationid", "causationid", "data"})
_SHORTCUT: Final = set(Envelope.model_fields) == _PLAIN_FIELDS | {"time"}


def _canonical_bytes(envelope: Envelope) -> bytes:
    """`encode(envelope)` for an envelope validated from JSON, without pydantic's model_dump.

    Only for envelopes whose `data` came from parsing JSON (str, int, float, bool, None, lists and
    dicts of them): model_dump(mode="json") returns such values unchanged, so only `time` is not a
    JSON value already. orjson writes it as pydantic does (RFC 3339, microseconds only when there are
    any, `Z` for UTC with OPT_UTC_Z, the offset otherwise, none for a naive time): property-tested on
    every time a JSON envelope can carry (runtime/tests/test_codec.py). Asking pydantic for the string
    instead made the content hash of a generated record cost 2.4 rather than 1.7 µs
    (`python -m caretools.bench_hotpath`). An envelope built in code may carry other values in `data`:
    use `encode`.
    """
    if not _SHORTCUT:
        return encode(envelope)
    return orjson.dumps(envelope.__dict__, option=orjson.OPT_SORT_KEYS | orjson.OPT_UTC_Z)


__all__ = [
    "CONTENT_TYPE", "CONTENT_TYPE_HEADER", "DECODE_ERROR_CODES", "INVALID_ENVELOPE", "INVALID_PAYLOAD",
    "KAFKA_HEADERS", "MALFORMED_JSON", "OUTBOX_HEADERS", "UNKNOWN_TYPE", "DecodeError", "Decoded",
    "content_hash", "decode", "decode_batch", "decode_partitions", "encode",
]
