"""Outbox rows built from events, and the plumbing SQL that services' migrations apply."""
from __future__ import annotations

from careschemas.envelope import Envelope
from careschemas.examples import example_envelope

from careruntime.codec import OUTBOX_HEADERS, decode, encode
from careruntime.outbox import OutboxRow
from careruntime.sql import OUTBOX_CHANNEL, PLUMBING_ROLLBACK_SQL, PLUMBING_SQL


def test_for_event_keys_by_subject_and_encodes():
    envelope = Envelope.model_validate(example_envelope("allocation.PersonalBudgetRevised.v1"))
    row = OutboxRow.for_event("allocation.events.v1", envelope)
    assert row.topic == "allocation.events.v1"
    assert row.key == envelope.subject.encode()
    assert row.value == encode(envelope)
    assert row.headers == OUTBOX_HEADERS
    assert decode(row.value).envelope == envelope


def test_for_event_with_explicit_key():
    envelope = Envelope.model_validate(example_envelope("allocation.PersonalBudgetRevised.v1"))
    assert OutboxRow.for_event("t", envelope, key="PRV-1").key == b"PRV-1"
    assert OutboxRow.for_event("t", envelope, key=b"raw").key == b"raw"


def test_plumbing_sql_declares_both_tables_idempotently():
    sql = PLUMBING_SQL
    assert "CREATE TABLE IF NOT EXISTS consumer_offsets" in sql
    assert "PRIMARY KEY (group_id, topic, partition)" in sql
    assert "CREATE TABLE IF NOT EXISTS outbox" in sql
    assert "bigserial" in sql and "jsonb" in sql
    assert f"pg_notify('{OUTBOX_CHANNEL}'" in sql
    assert "%" not in sql  # DB-API drivers would read it as a parameter marker
    assert "DROP TABLE IF EXISTS outbox" in PLUMBING_ROLLBACK_SQL
