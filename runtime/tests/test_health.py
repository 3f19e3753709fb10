"""/healthz, /readyz and /metrics answer from in-process checks (no sockets: requests are mocked)."""
from __future__ import annotations

import asyncio

import orjson
from aiohttp.test_utils import make_mocked_request
from prometheus_client import CollectorRegistry

from careruntime.health import health_app
from careruntime.metrics import RuntimeMetrics


async def call(app, path):
    request = make_mocked_request("GET", path, app=app)
    match = await app.router.resolve(request)
    request._match_info = match
    return await match.handler(request)


async def ok():
    return None


async def broken():
    raise ConnectionRefusedError("nobody home")


async def slow():
    await asyncio.sleep(10)


async def test_ready_when_every_check_passes():
    app = health_app({"postgres": ok, "kafka": ok}, CollectorRegistry())
    response = await call(app, "/readyz")
    assert response.status == 200
    assert orjson.loads(response.body)["status"] == "ready"


async def test_unready_names_failing_and_slow_checks():
    app = health_app({"postgres": broken, "kafka": slow, "disk": ok}, CollectorRegistry(), timeout_s=0.05)
    response = await call(app, "/readyz")
    body = orjson.loads(response.body)
    assert response.status == 503
    assert body["failing"] == ["kafka", "postgres"]
    assert "ConnectionRefusedError" in body["errors"]["postgres"]
    assert "timed out" in body["errors"]["kafka"]


async def test_liveness():
    assert (await call(health_app({}, CollectorRegistry()), "/healthz")).status == 200
    dead = health_app({}, CollectorRegistry(), liveness=lambda: False)
    assert (await call(dead, "/healthz")).status == 503


async def test_metrics_endpoint_serves_the_given_registry():
    registry = CollectorRegistry()
    RuntimeMetrics(registry).consumed.labels("in").inc(2)
    response = await call(health_app({}, registry), "/metrics")
    assert response.status == 200
    assert response.content_type == "text/plain"
    assert b'consumed_total{topic="in"} 2.0' in response.body
