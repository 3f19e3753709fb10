"""What the PostgreSQL outage tests (test_*_pg_outage.py, the reporting year's) share: hold the test stack's
PostgreSQL down for a while (conftest's `postgres_outage`) while checking, every second, that the processes
under test are alive and say so: /healthz 200, /readyz 503 naming postgres alone."""
from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable

import aiohttp


async def hold_outage(postgres_outage, seconds: float, ports: Iterable[int], alive: Callable[[], None]) -> float:
    """PostgreSQL down for `seconds` (it is started again however this ends); `alive()` asserts that the
    processes still run, `ports` are their health ports. Returns how long it was down."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http, postgres_outage():
        down_at = time.monotonic()
        while time.monotonic() - down_at < seconds:
            alive()
            for port in ports:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as r:
                    assert r.status == 200, (port, r.status)
                async with http.get(f"http://127.0.0.1:{port}/readyz") as r:
                    body = await r.json()
                    assert r.status == 503 and body["failing"] == ["postgres"], (port, r.status, body)
            await asyncio.sleep(1.0)
        return time.monotonic() - down_at


async def ready(ports: Iterable[int]) -> None:
    """Every one of `ports` answers /readyz 200."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
        for port in ports:
            async with http.get(f"http://127.0.0.1:{port}/readyz") as r:
                assert r.status == 200, (port, r.status, await r.text())
