"""The local stack itself, against the real broker and database: a message makes a round trip through
Kafka, yoyo migrations (.sql and .py) apply once and then are a no-op, and topic declarations are
created idempotently with the declared partition counts and retention."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from careruntime.migrate import migrate
from careruntime.topics import TopicMismatchError, TopicSpec, delete_topics, ensure_topics, load_topic_specs

pytestmark = pytest.mark.integration

SQL_MIGRATION = """\
CREATE TABLE budget (
    budget_id   text PRIMARY KEY,
    council_id  text NOT NULL,
    amount_pence bigint NOT NULL CHECK (amount_pence >= 0)
);
"""

PY_MIGRATION = '''\
"""Seeds one budget: a .py yoyo migration with one SQL step and one Python step."""
from yoyo import step

__depends__ = {"0001.create-budget"}


def add_audit_column(conn):
    cursor = conn.cursor()
    cursor.execute("ALTER TABLE budget ADD COLUMN created_by text NOT NULL DEFAULT 'migration'")


steps = [
    step("INSERT INTO budget VALUES ('b-1', 'council-7', 125000)", "DELETE FROM budget WHERE budget_id = 'b-1'"),
    step(add_audit_column),
]
'''


def _subprocess_env() -> dict[str, str]:
    src = str(Path(__file__).resolve().parents[2] / "runtime" / "src")
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")]))}


async def test_message_round_trip_through_the_broker_with_a_committed_group_offset(stack, topics):
    topic = (await topics(["roundtrip"], partitions=1))["roundtrip"]
    producer = AIOKafkaProducer(bootstrap_servers=stack.bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        sent = await producer.send_and_wait(
            topic, b'{"amount_pence": 125000}', key=b"budget-1", headers=[("content-type", b"application/json")]
        )
    finally:
        await producer.stop()

    group = f"g-{uuid.uuid4().hex[:8]}"
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=stack.bootstrap, group_id=group,
        auto_offset_reset="earliest", enable_auto_commit=False,
    )
    await consumer.start()
    try:
        received = await asyncio.wait_for(consumer.getone(), timeout=30)
        await consumer.commit()
        committed = await consumer.committed(TopicPartition(topic, 0))
    finally:
        await consumer.stop()

    assert (received.key, received.value) == (b"budget-1", b'{"amount_pence": 125000}')
    assert received.offset == sent.offset == 0
    assert dict(received.headers)["content-type"] == b"application/json"
    assert committed == 1


async def test_sql_and_py_migrations_apply_once_and_then_are_a_no_op(stack, fresh_db, tmp_path):
    (tmp_path / "0001.create-budget.sql").write_text(SQL_MIGRATION)
    (tmp_path / "0001.create-budget.rollback.sql").write_text("DROP TABLE budget;\n")
    (tmp_path / "0002.seed-budget.py").write_text(PY_MIGRATION)

    dsn = await fresh_db("stacktest", migrations_dir=tmp_path)  # creates the database, applies both
    again = await asyncio.to_thread(migrate, dsn, tmp_path)
    cli = subprocess.run(
        [sys.executable, "-m", "careruntime.migrate", "--dsn", dsn, "--dir", str(tmp_path)],
        capture_output=True, text=True, env=_subprocess_env(), timeout=120,
    )

    assert again == []
    assert cli.returncode == 0, cli.stderr
    assert "migrate: 0 applied" in cli.stdout
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT budget_id, council_id, amount_pence, created_by FROM budget")
        applied = await conn.fetch("SELECT migration_id FROM _yoyo_migration ORDER BY migration_id")
    finally:
        await conn.close()
    assert [tuple(r) for r in rows] == [("b-1", "council-7", 125000, "migration")]
    assert [r["migration_id"] for r in applied] == ["0001.create-budget", "0002.seed-budget"]


async def _describe(bootstrap: str, names: list[str]) -> tuple[dict[str, int], dict[str, dict[str, str]]]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        partitions = {t["topic"]: len(t["partitions"]) for t in await admin.describe_topics(names)}
        responses = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, name) for name in names]
        )
    finally:
        await admin.close()
    configs = {
        resource[3]: {entry[0]: entry[1] for entry in resource[4]}
        for response in responses
        for resource in response.resources
    }
    return partitions, configs


async def test_ensure_topics_creates_declared_topics_once_with_their_partition_counts(stack):
    prefix = f"t{uuid.uuid4().hex[:10]}."
    specs = load_topic_specs(stack.repo_root / "deploy" / "topics.yaml", prefix=prefix)
    names = [s.name for s in specs]
    try:
        first = await ensure_topics(stack.bootstrap, specs)
        second = await ensure_topics(stack.bootstrap, specs)
        cli = subprocess.run(
            [sys.executable, "-m", "careruntime.topics", "ensure", "--config",
             str(stack.repo_root / "deploy" / "topics.yaml"), "--bootstrap", stack.bootstrap, "--prefix", prefix],
            capture_output=True, text=True, env=_subprocess_env(), timeout=120,
        )
        partitions, configs = await _describe(stack.bootstrap, names)
        with pytest.raises(TopicMismatchError, match="fewer partitions"):
            await ensure_topics(stack.bootstrap, [TopicSpec(prefix + "ledger.entries.v1", 12)])
    finally:
        await delete_topics(stack.bootstrap, names)

    assert sorted(first.created) == sorted(names) and first.existing == []
    assert second.created == [] and sorted(second.existing) == sorted(names)
    assert cli.returncode == 0, cli.stderr
    assert f"0 created, {len(names)} already present" in cli.stdout
    assert partitions == {s.name: s.partitions for s in specs}
    assert partitions[prefix + "ledger.entries.v1"] == 6
    assert partitions[prefix + "payments.commands.v1.dlq"] == 1
    assert {name for name in names if name.endswith(".dlq")} == {
        prefix + t + ".dlq"
        for t in ("allocation.commands.v1", "allocation.events.v1", "payments.commands.v1", "payments.events.v1")
    }
    for name in names:
        assert configs[name]["retention.ms"] == "-1", name
