"""Health and metrics endpoints every service process serves (for Kubernetes probes and Prometheus).

Owns `/healthz` (liveness: the event loop answers, and an optional `liveness()` says the worker is not
wedged), `/readyz` (readiness: every dependency check passes within its timeout, otherwise 503 naming
the failing checks) and `/metrics` (the process's Prometheus registry). Ready-made checks:
`postgres_check` (SELECT 1 through the pool, or a short-lived connection to a DSN) and `kafka_check`
(a short-lived metadata request to the bootstrap servers).
"""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import asyncpg
from aiohttp import web
from aiokafka.client import AIOKafkaClient
from prometheus_client import CollectorRegistry

from .kafka_security import client_options
from .metrics import exposition

Check = Callable[[], Awaitable[Any]]


def postgres_check(target: asyncpg.Pool | str, timeout_s: float = 2.0) -> Check:
    """Passes when PostgreSQL answers `SELECT 1`; `target` is a pool or a DSN."""

    async def check() -> None:
        if isinstance(target, str):
            conn = await asyncpg.connect(target, timeout=timeout_s)
            try:
                await conn.fetchval("SELECT 1")
            finally:
                await conn.close()
        else:
            async with target.acquire(timeout=timeout_s) as conn:
                await conn.fetchval("SELECT 1")

    return check


def kafka_check(bootstrap: str, timeout_s: float = 2.0) -> Check:
    """Passes when a broker at `bootstrap` answers a metadata request."""

    async def check() -> None:
        client = AIOKafkaClient(bootstrap_servers=bootstrap, request_timeout_ms=int(timeout_s * 1000),
                                **client_options())
        try:
            await client.bootstrap()
        finally:
            await client.close()

    return check


async def _run_check(check: Check, timeout_s: float) -> str | None:
    """None when the check passed, else a short reason."""
    try:
        result = await asyncio.wait_for(check(), timeout=timeout_s)
    except TimeoutError:
        return f"timed out after {timeout_s}s"
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"[:200]
    return "returned False" if result is False else None


async def readiness(checks: Mapping[str, Check], timeout_s: float = 3.0) -> tuple[dict[str, Any], int]:
    """Run every check at once: the /readyz body and its status (200, or 503 naming what failed)."""
    names = list(checks)
    results = await asyncio.gather(*(_run_check(checks[n], timeout_s) for n in names))
    failing = {n: why for n, why in zip(names, results, strict=True) if why is not None}
    body = {"status": "unready" if failing else "ready", "failing": sorted(failing), "errors": failing}
    return body, 503 if failing else 200


def health_app(
    checks: Mapping[str, Check], registry: CollectorRegistry, *, timeout_s: float = 3.0,
    liveness: Callable[[], bool] | None = None,
) -> web.Application:
    """An aiohttp app serving /healthz, /readyz and /metrics."""

    async def healthz(_: web.Request) -> web.Response:
        if liveness is not None and not liveness():
            return web.json_response({"status": "dead"}, status=503)
        return web.json_response({"status": "ok"})

    async def readyz(_: web.Request) -> web.Response:
        body, status = await readiness(checks, timeout_s)
        return web.json_response(body, status=status)

    async def metrics(_: web.Request) -> web.Response:
        payload, content_type = exposition(registry)
        return web.Response(body=payload, headers={"Content-Type": content_type})

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    return app


async def serve(app: web.Application, host: str = "0.0.0.0", port: int = 8080) -> web.AppRunner:
    """Start `app` on host:port in the running loop; `await runner.cleanup()` stops it."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner


__all__ = ["Check", "health_app", "kafka_check", "postgres_check", "readiness", "serve"]
