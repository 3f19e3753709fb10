"""The chart's workers and relays, started as real processes with the environment the chart renders,
answer their probes on the rendered ports (integration: needs the test stack's Kafka and PostgreSQL).

That /readyz turns 503 when PostgreSQL or Kafka is unreachable is tested against the same health app
in tests/integration/test_runtime_health.py; the views' exec probe in test_probes.py.
"""
from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
import uuid

import aiohttp

from .conftest import container_env, of_kind


def free_port_pair() -> int:
    """A port P with P and P + 1 both free (a worker serves P, its relay P + 1)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port < 65000:
            with socket.socket() as s2:
                try:
                    s2.bind(("127.0.0.1", port + 1))
                    return port
                except OSError:
                    continue
    raise RuntimeError("no free pair of ports")


def open_log(path):
    """A process's log file (opened here: blocking I/O stays out of the async test)."""
    return path.open("w")  # closed in the test's finally


async def wait_ok(http: aiohttp.ClientSession, url: str, proc, deadline_s: float = 60.0) -> None:
    deadline = time.monotonic() + deadline_s
    last = None
    while time.monotonic() < deadline:
        assert proc.returncode is None, f"the process exited ({proc.returncode}) before {url} answered"
        try:
            async with http.get(url, timeout=aiohttp.ClientTimeout(total=5)) as response:
                last = (response.status, await response.text())
                if response.status == 200:
                    return
        except aiohttp.ClientError as exc:
            last = exc
        await asyncio.sleep(0.3)
    raise AssertionError(f"{url} did not answer 200 in {deadline_s}s: {last}")


async def test_rendered_workers_and_relays_answer_their_probes(render, stack, fresh_db, tmp_path):
    suffix = uuid.uuid4().hex[:8]
    docs = render(None, f"ledger.healthPort={free_port_pair()}", f"allocation.healthPort={free_port_pair()}",
                  f"kafka.bootstrapServers={stack.bootstrap}", f"ledger.groupId=t-ledger-{suffix}",
                  f"allocation.groupId=t-allocation-{suffix}")
    dsn = {"ledger": await fresh_db("ledger"), "allocation": await fresh_db("allocation")}
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("LEDGER_", "ALLOCATION_"))}
    started = []
    try:
        for dep in of_kind(docs, "Deployment"):
            service, kind = dep["metadata"]["labels"]["app.kubernetes.io/component"].split("-")
            if kind == "views":
                continue
            container = dep["spec"]["template"]["spec"]["containers"][0]
            env = dict(base_env)
            for name, source in container_env(docs, container).items():
                env[name] = source["value"] if "value" in source else dsn[service]
            log = open_log(tmp_path / f"{service}-{kind}.log")
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", service, *container["args"], env=env, stdout=log, stderr=log,
                stdin=asyncio.subprocess.DEVNULL)
            started.append((proc, log, service, kind, container))
        async with aiohttp.ClientSession() as http:
            for proc, _, service, kind, container in started:
                port = container["ports"][0]["containerPort"]
                for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
                    await wait_ok(http, f"http://127.0.0.1:{port}{container[probe]['httpGet']['path']}", proc)
                async with http.get(f"http://127.0.0.1:{port}/metrics") as response:
                    text = await response.text()
                namespace = service if kind == "worker" else f"{service}_relay"
                assert response.status == 200 and f"{namespace}_consumed_total" in text, f"{service}-{kind}"
    finally:
        for proc, log, *_ in started:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
        for proc, log, *_ in started:
            try:
                await asyncio.wait_for(proc.wait(), timeout=20)
            except TimeoutError:
                proc.kill()
                await proc.wait()
            log.close()
    assert len(started) == 4
