"""/readyz over real HTTP against the real PostgreSQL and Kafka, and against closed ports."""
from __future__ import annotations

import socket

import aiohttp
import asyncpg
import pytest
from prometheus_client import CollectorRegistry

from careruntime.health import health_app, kafka_check, postgres_check, serve
from careruntime.metrics import RuntimeMetrics

pytestmark = pytest.mark.integration


def closed_port() -> int:
    """A local port nobody listens on (bound once by us, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def get(app, path: str) -> tuple[int, dict | str]:
    port = closed_port()
    runner = await serve(app, "127.0.0.1", port)
    try:
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}{path}") as response:
            body = await response.json() if response.content_type == "application/json" else await response.text()
            return response.status, body
    finally:
        await runner.cleanup()


async def test_ready_when_postgres_and_kafka_answer(stack):
    pool = await asyncpg.create_pool(stack.dsn("postgres"), min_size=1, max_size=2)
    try:
        registry = CollectorRegistry()
        RuntimeMetrics(registry)
        app = health_app({"postgres": postgres_check(pool), "kafka": kafka_check(stack.bootstrap)}, registry)
        assert await get(app, "/readyz") == (200, {"status": "ready", "failing": [], "errors": {}})
        assert (await get(app, "/healthz"))[0] == 200
        status, text = await get(app, "/metrics")
        assert status == 200 and "consumed_total" in text
    finally:
        await pool.close()


async def test_unready_when_postgres_is_unreachable(stack):
    dead_dsn = f"postgresql://careledger@127.0.0.1:{closed_port()}/postgres"
    dead_pool = await asyncpg.create_pool(dead_dsn, min_size=0, max_size=1)  # connects lazily
    try:
        checks = {
            "postgres": postgres_check(dead_pool, timeout_s=1),
            "postgres-dsn": postgres_check(dead_dsn, timeout_s=1),
            "kafka": kafka_check(stack.bootstrap),
        }
        status, body = await get(health_app(checks, CollectorRegistry(), timeout_s=2), "/readyz")
        assert status == 503
        assert body["failing"] == ["postgres", "postgres-dsn"]
        assert body["status"] == "unready"
    finally:
        await dead_pool.close()


async def test_unready_when_kafka_is_unreachable(stack):
    checks = {
        "postgres": postgres_check(stack.dsn("postgres")),
        "kafka": kafka_check(f"127.0.0.1:{closed_port()}", timeout_s=1),
    }
    status, body = await get(health_app(checks, CollectorRegistry(), timeout_s=2), "/readyz")
    assert (status, body["failing"]) == (503, ["kafka"])
    assert body["errors"]["kafka"]
