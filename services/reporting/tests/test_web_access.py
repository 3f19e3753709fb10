"""Unit tests of access control: keys by hash, one council per key, the auditor reads and cannot write,
and the settings that configure it (no database, no server)."""
from __future__ import annotations

import json

import pytest
from pydantic import ValidationError
from reporting.web.access import AccessDenied, KeyRing, authorise, hash_key, new_key
from reporting.web.config import ApiKey, WebSettings


def ring() -> KeyRing:
    return KeyRing([ApiKey(key_sha256=hash_key("k-fin"), council_id="C1", role="finance", label="fin"),
                    ApiKey(key_sha256=hash_key("k-aud"), council_id="C1", role="auditor"),
                    ApiKey(key_sha256=hash_key("k-two"), council_id="C2", role="finance")])


def test_a_key_is_known_only_by_its_hash():
    keys = ring()
    assert keys.principal("k-fin").council_id == "C1" and keys.principal("k-fin").can_write
    assert keys.principal("k-aud").role == "auditor" and not keys.principal("k-aud").can_write
    assert keys.principal(hash_key("k-fin")) is None  # the configured hash is not itself a key
    assert keys.principal("") is None and keys.principal(None) is None
    assert keys.principal("x" * 10_000) is None


def test_new_keys_are_random_and_hash_to_what_is_configured():
    (a, ha), (b, hb) = new_key(), new_key()
    assert a != b and ha == hash_key(a) and hb == hash_key(b) and len(a) >= 40


@pytest.mark.parametrize("council,write,status", [("C2", False, 403), ("C2", True, 403)])
def test_no_key_reaches_another_council(council, write, status):
    with pytest.raises(AccessDenied) as refused:
        authorise(ring().principal("k-fin"), council, write=write)
    assert refused.value.status == status


def test_the_auditor_reads_and_cannot_write():
    keys = ring()
    assert authorise(keys.principal("k-aud"), "C1").role == "auditor"
    with pytest.raises(AccessDenied) as refused:
        authorise(keys.principal("k-aud"), "C1", write=True)
    assert refused.value.status == 403 and "auditor" in refused.value.detail
    assert authorise(keys.principal("k-fin"), "C1", write=True).role == "finance"


def test_no_key_is_401():
    with pytest.raises(AccessDenied) as refused:
        authorise(None, "C1")
    assert refused.value.status == 401


def test_keys_and_targets_come_from_the_environment(monkeypatch):
    entry = {"key_sha256": hash_key("k"), "council_id": "C9", "role": "auditor", "label": "audit firm"}
    monkeypatch.setenv("REPORTING_API_KEYS", json.dumps([entry]))
    monkeypatch.setenv("REPORTING_EXTERNAL_SHARE_TARGETS", json.dumps({"C9": 0.85}))
    settings = WebSettings()
    assert KeyRing(settings.api_keys).principal("k").council_id == "C9"
    assert settings.target_for("C9") == 0.85 and settings.target_for("C1") == 0.8


@pytest.mark.parametrize("bad", [{"key_sha256": "not-hex", "council_id": "C1", "role": "finance"},
                                 {"key_sha256": "a" * 64, "council_id": "C1", "role": "admin"},
                                 {"key_sha256": "a" * 64, "council_id": "", "role": "auditor"}])
def test_malformed_key_entries_are_refused_at_start(bad):
    with pytest.raises(ValidationError):
        ApiKey(**bad)
