"""The wire codec: reason codes of undecodable values, round trips and the content hash."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from careschemas.envelope import CONTENT_TYPE, Envelope
from careschemas.examples import example_envelope
from careschemas.registry import MODELS

from careruntime import codec
from careruntime.codec import (
    INVALID_ENVELOPE, INVALID_PAYLOAD, MALFORMED_JSON, UNKNOWN_TYPE, DecodeError, decode, decode_batch, encode,
)

TYPE = "allocation.PersonalBudgetRevised.v1"


def envelope_doc(type_name: str = TYPE) -> dict:
    return example_envelope(type_name)


def raw(doc: dict) -> bytes:
    return orjson.dumps(doc)


def code_of(value: bytes | None) -> DecodeError:
    with pytest.raises(DecodeError) as caught:
        decode(value)
    return caught.value


def test_valid_value_decodes_to_envelope_and_typed_payload():
    decoded = decode(raw(envelope_doc()))
    assert decoded.envelope.type == TYPE
    assert isinstance(decoded.payload, MODELS[TYPE])
    assert decoded.payload.budget_id == envelope_doc()["data"]["budget_id"]


@pytest.mark.parametrize("value", [b"{", b"not json", b"\xff\xfe", b"{\"id\": 1,}", b"", None])
def test_malformed_json(value):
    err = code_of(value)
    assert err.code == MALFORMED_JSON
    assert err.detail


@pytest.mark.parametrize(
    "value, kind", [(b"[1, 2]", "list"), (b"\"text\"", "str"), (b"42", "int"), (b"null", "NoneType")])
def test_json_that_is_not_an_object_is_malformed(value, kind):
    err = code_of(value)
    assert err.code == MALFORMED_JSON
    assert kind in err.detail


@pytest.mark.parametrize(
    "field", ["id", "source", "type", "time", "subject", "councilid", "correlationid", "data"])
def test_missing_envelope_field(field):
    doc = envelope_doc()
    del doc[field]
    err = code_of(raw(doc))
    assert err.code == INVALID_ENVELOPE
    assert err.detail.startswith(f"{field}: ")


def test_invalid_envelope_attribute_and_extra_attribute():
    doc = envelope_doc()
    doc["specversion"] = "0.3"
    assert code_of(raw(doc)).code == INVALID_ENVELOPE
    doc = envelope_doc()
    doc["surprise"] = 1
    err = code_of(raw(doc))
    assert (err.code, err.detail.split(":")[0]) == (INVALID_ENVELOPE, "surprise")


@pytest.mark.parametrize("field", ["subject", "source"])
def test_a_nul_character_in_the_envelopes_free_text_is_an_invalid_envelope(field):
    """PostgreSQL text cannot hold NUL, and the ledger stores every entry's subject: such a record would fail
    its batch's write on every retry."""
    doc = envelope_doc()
    doc[field] = "PB-1\x00"
    err = code_of(raw(doc))
    assert (err.code, err.detail.split(":")[0]) == (INVALID_ENVELOPE, field)


def test_unknown_type():
    doc = envelope_doc()
    doc["type"] = "allocation.NoSuchThing.v9"
    err = code_of(raw(doc))
    assert err.code == UNKNOWN_TYPE
    assert "allocation.NoSuchThing.v9" in err.detail


def test_invalid_payload_names_the_field():
    doc = envelope_doc()
    doc["data"]["amount_pence"] = "lots"
    err = code_of(raw(doc))
    assert err.code == INVALID_PAYLOAD
    assert err.detail.startswith("data.amount_pence: ")


@pytest.mark.parametrize("amount", [2**63, 2**64, 2**70, 10**30])
def test_an_integer_beyond_64_bits_is_an_invalid_payload(amount):
    """orjson writes no integer beyond 64 bits, so such a value, had it validated, would fail the content hash
    of every consumer that read it (its batch retried for ever). Every integer is bounded by a bigint instead."""
    doc = envelope_doc()
    doc["data"]["amount_pence"] = amount
    err = code_of(json.dumps(doc).encode())  # the standard library writes any integer
    assert err.code == INVALID_PAYLOAD
    assert err.detail.startswith("data.amount_pence: ")


def test_the_largest_integer_decodes_and_hashes():
    doc = envelope_doc()
    doc["data"]["amount_pence"] = 2**63 - 1
    decoded = decode(json.dumps(doc).encode())
    assert decoded.payload.amount_pence == 2**63 - 1
    assert len(decoded.content_hash) == 64


def _integer_paths(data: dict):
    """(path, setter) of every integer in an example payload, one level into lists of objects too."""
    for key, value in data.items():
        if type(value) is int:
            yield key, lambda doc, v, key=key: doc["data"].__setitem__(key, v)
        elif isinstance(value, list):
            for n, item in enumerate(value):
                if isinstance(item, dict):
                    for inner, inner_value in item.items():
                        if type(inner_value) is int:
                            yield f"{key}.{n}.{inner}", (
                                lambda doc, v, key=key, n=n, inner=inner: doc["data"][key][n].__setitem__(inner, v))


def test_no_registered_type_decodes_an_integer_it_cannot_hash():
    """Every integer field of every type, set beyond 64 bits: a coded rejection, never a record whose hash fails."""
    checked = 0
    for type_name in MODELS:
        for path, set_to in _integer_paths(envelope_doc(type_name)["data"]):
            doc = envelope_doc(type_name)
            set_to(doc, 2**64)
            err = code_of(json.dumps(doc).encode())
            assert err.code == INVALID_PAYLOAD, (type_name, path)
            checked += 1
    assert checked > 40  # money, counts and the invoice lines' integers of every family


def test_missing_payload_field_counts_the_rest():
    doc = envelope_doc()
    doc["data"] = {}
    err = code_of(raw(doc))
    assert err.code == INVALID_PAYLOAD
    assert "and" in err.detail and "more" in err.detail


def test_every_registered_type_round_trips():
    for type_name in MODELS:
        envelope = Envelope.model_validate(envelope_doc(type_name))
        decoded = decode(encode(envelope))
        assert decoded.envelope == envelope
        assert type(decoded.payload) is MODELS[type_name]


def test_encode_is_compact_sorted_and_deterministic():
    envelope = Envelope.model_validate(envelope_doc())
    value = encode(envelope)
    assert value == encode(Envelope.model_validate(orjson.loads(value)))
    assert b" " not in value.replace(b"Annual review", b"")
    keys = list(orjson.loads(value))
    assert keys == sorted(keys)


def test_decode_batch_splits_good_and_bad_in_order():
    good_value = raw(envelope_doc())
    records = [SimpleNamespace(value=v, offset=i) for i, v in enumerate([good_value, b"{", good_value, b"[]"])]
    good, bad = decode_batch(records)
    assert [r.offset for r, _ in good] == [0, 2]
    assert [(r.offset, e.code) for r, e in bad] == [(1, MALFORMED_JSON), (3, MALFORMED_JSON)]


class TestContentHash:
    def test_stable_and_hex(self):
        envelope = Envelope.model_validate(envelope_doc())
        h = codec.content_hash(envelope)
        assert len(h) == 64 and int(h, 16) >= 0
        assert h == codec.content_hash(envelope)
        assert h == codec.content_hash(encode(envelope))
        assert h == decode(encode(envelope)).content_hash

    def test_spelling_does_not_matter(self):
        doc = envelope_doc()
        reordered = dict(reversed(list(doc.items())))
        spaced = orjson.dumps(reordered, option=orjson.OPT_INDENT_2)
        doc_offset = dict(doc, time=doc["time"].replace("Z", "+00:00"))
        assert codec.content_hash(raw(doc)) == codec.content_hash(spaced) == codec.content_hash(raw(doc_offset))

    def test_any_content_change_changes_it(self):
        doc = envelope_doc()
        base = codec.content_hash(raw(doc))
        changed_data = envelope_doc()
        changed_data["data"]["amount_pence"] += 1
        changed_time = dict(envelope_doc(), time="2030-01-01T00:00:00Z")
        assert codec.content_hash(raw(changed_data)) != base
        assert codec.content_hash(raw(changed_time)) != base

    def test_known_value(self):
        # Pinned: a change here changes every stored hash, so it must be deliberate.
        envelope = Envelope(
            id="e-1", source="test", type=TYPE, time="2025-04-01T09:30:00Z", subject="PB-1",
            councilid="E08000025", correlationid="c-1", data={"a": 1, "b": [True, None]},
        )
        assert encode(envelope) == (
            b'{"causationid":null,"correlationid":"c-1","councilid":"E08000025","data":{"a":1,"b":[true,null]},'
            b'"datacontenttype":"application/json","id":"e-1","source":"test","specversion":"1.0",'
            b'"subject":"PB-1","time":"2025-04-01T09:30:00Z","type":"allocation.PersonalBudgetRevised.v1"}'
        )
        assert codec.content_hash(envelope) == __import__("hashlib").sha256(encode(envelope)).hexdigest()

    def test_not_an_envelope_raises_decode_error(self):
        with pytest.raises(DecodeError):
            codec.content_hash(b"{}")


def test_kafka_content_type_header():
    assert codec.KAFKA_HEADERS == [("content-type", b"application/cloudevents+json; charset=UTF-8")]
    assert codec.OUTBOX_HEADERS == {"content-type": CONTENT_TYPE}


class TestCanonicalShortcut:
    """`Decoded.content_hash` skips model_dump; it must give exactly sha256(encode(envelope))."""

    @staticmethod
    def reference(envelope: Envelope) -> str:
        return __import__("hashlib").sha256(encode(envelope)).hexdigest()

    def test_every_registered_type(self):
        for type_name in MODELS:
            decoded = decode(raw(envelope_doc(type_name)))
            assert codec._canonical_bytes(decoded.envelope) == encode(decoded.envelope)
            assert decoded.content_hash == self.reference(decoded.envelope) == codec.content_hash(decoded.envelope)

    @pytest.mark.parametrize("time", [
        "2026-04-01T09:30:00Z", "2026-04-01T09:30:00+00:00", "2026-04-01T09:30:00.000001Z",
        "2026-04-01T09:30:00.5+05:30", "2026-04-01T09:30:00.123456-08:00",
        "2026-04-01 09:30:00Z", "0001-01-02T00:00:00Z", "0001-01-02T00:00:00-14:00",
        "9999-12-30T23:59:59.999999Z", "9999-12-31T09:59:59.999999+14:00", "1774000000",
    ])
    def test_every_spelling_of_time(self, time):
        decoded = decode(raw(dict(envelope_doc(), time=time)))
        assert codec._canonical_bytes(decoded.envelope) == encode(decoded.envelope)

    @pytest.mark.parametrize("time", [
        "2026-04-01T09:30:00",  # no offset: not RFC 3339, and it cannot be ordered beside times with one
        "0001-01-01T23:59:59.999999Z", "0001-01-02T00:00:00+00:01",  # before 0001-01-02 in UTC
        "9999-12-31T00:00:00Z", "9999-12-30T23:59:59-00:01",  # after 9999-12-30 in UTC
    ])
    def test_a_time_without_an_offset_or_at_the_calendars_edges_is_an_invalid_envelope(self, time):
        with pytest.raises(DecodeError) as refused:
            decode(raw(dict(envelope_doc(), time=time)))
        assert refused.value.code == "INVALID_ENVELOPE"

    @settings(max_examples=400, deadline=None)
    @given(moment=st.datetimes(min_value=datetime(1, 1, 3), max_value=datetime(9999, 12, 29)),
           offset_minutes=st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1),
           spelling=st.sampled_from(["iso", "z", "space"]))
    def test_every_time_a_json_envelope_can_carry(self, moment, offset_minutes, spelling):
        # any whole-minute offset, any microsecond: orjson writes `time` exactly as pydantic does
        moment = moment.replace(tzinfo=timezone(timedelta(minutes=offset_minutes)))
        text = moment.isoformat()
        if spelling == "z" and offset_minutes == 0:
            text = text.replace("+00:00", "Z")
        elif spelling == "space":
            text = text.replace("T", " ", 1)
        decoded = decode(raw(dict(envelope_doc(), time=text)))
        assert codec._canonical_bytes(decoded.envelope) == encode(decoded.envelope)

    def test_json_values_the_payload_may_ignore_are_kept_as_encode_writes_them(self):
        # `data` is a plain dict on the envelope: unicode, escapes, floats, nesting, nulls, big ints.
        doc = dict(envelope_doc(), causationid="cause-1", subject="PB-\u00e9")
        doc = orjson.loads(orjson.dumps(doc))
        envelope = Envelope.model_validate_json(orjson.dumps(dict(doc, data={
            "z": "\u2603 \"quoted\" \\ \n", "a": [1.5, 1e300, -0.0, 2**63 - 1, -(2**63)], "m": {"y": None, "b": True},
        })))
        assert codec._canonical_bytes(envelope) == encode(envelope)

    def test_the_generated_year(self):
        from caretools.generator import generate
        for message in generate(people=15, seed=3):
            decoded = decode(message.value)
            assert decoded.content_hash == self.reference(decoded.envelope)
            assert message.value == codec._canonical_bytes(decoded.envelope)  # producers send the canonical form

    def test_a_changed_envelope_turns_the_shortcut_off(self, monkeypatch):
        decoded = decode(raw(envelope_doc()))
        monkeypatch.setattr(codec, "_SHORTCUT", False)
        assert codec._canonical_bytes(decoded.envelope) == encode(decoded.envelope)
        assert codec._SHORTCUT is False and set(Envelope.model_fields) == codec._PLAIN_FIELDS | {"time"}
