"""Running the chart's processes for real, outside Kubernetes: the environment a rendered container gets
(its ConfigMap, values, Secrets by reference filled in by the test, the downward API), started as
`python -m <service> <kind>` child processes, and polling their probe endpoints.
"""
from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import time
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from .conftest import container_env, of_kind

# The test runner's own service settings must not leak into a process started from a rendered container.
LEAKY_PREFIXES = ("LEDGER_", "ALLOCATION_", "CARELEDGER_KAFKA_")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def distinct_free_ports(n: int) -> list[int]:
    """`n` ports free now, all different (held open together while they are picked)."""
    with ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(n)]
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]


def free_port_pair() -> int:
    """A port P with P and P + 1 both free (a worker serves P, its relay P + 1)."""
    for _ in range(50):
        port = free_port()
        if port < 65000:
            with socket.socket() as s2:
                try:
                    s2.bind(("127.0.0.1", port + 1))
                    return port
                except OSError:
                    continue
    raise RuntimeError("no free pair of ports")


def process_env(docs: list[dict], container: dict, secrets: Mapping[tuple[str, str], str],
                overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """The container's environment as the kubelet would build it; secrets[(secret name, key)] fills secretKeyRefs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(LEAKY_PREFIXES)}
    rendered = container_env(docs, container)
    for name, source in rendered.items():
        if "value" in source:
            env[name] = source["value"]
        elif "secretKeyRef" in source:
            ref = source["secretKeyRef"]
            env[name] = secrets[(ref["name"], ref["key"])]
        elif source.get("fieldRef", {}).get("fieldPath") == "status.podIP":
            env[name] = "127.0.0.1"
    for name, value in list(env.items()):
        if name in rendered and "$(POD_IP)" in value:
            env[name] = value.replace("$(POD_IP)", env["POD_IP"])
    env.update(overrides or {})
    return env


@dataclass
class Started:
    name: str  # the component, e.g. allocation-views
    kind: str
    container: dict
    proc: asyncio.subprocess.Process
    log_path: Path

    @property
    def port(self) -> int:
        return self.container["ports"][0]["containerPort"]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def probe_path(self, probe: str) -> str:
        return self.container[probe]["httpGet"]["path"]


@dataclass
class Processes:
    """The rendered Deployments' processes, started as children; `stop()` ends them with SIGTERM."""

    log_dir: Path
    started: list[Started] = field(default_factory=list)

    async def start(self, docs: list[dict], component: str, env: dict[str, str], cwd: Path | None = None) -> Started:
        dep = next(d for d in of_kind(docs, "Deployment")
                   if d["metadata"]["labels"]["app.kubernetes.io/component"] == component)
        container = dep["spec"]["template"]["spec"]["containers"][0]
        service, kind = component.split("-")
        log_path = self.log_dir / f"{component}.log"
        with log_path.open("ab") as log:  # the child keeps its own copy of the descriptor
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", service, *container["args"], env=env, stdout=log, stderr=log,
                stdin=asyncio.subprocess.DEVNULL, cwd=cwd)
        started = Started(component, kind, container, proc, log_path)
        self.started.append(started)
        return started

    async def stop(self) -> None:
        for s in self.started:
            if s.proc.returncode is None:
                s.proc.send_signal(signal.SIGTERM)
        for s in self.started:
            try:
                await asyncio.wait_for(s.proc.wait(), timeout=30)
            except TimeoutError:
                s.proc.kill()
                await s.proc.wait()


async def get(http: aiohttp.ClientSession, url: str) -> tuple[int, str]:
    async with http.get(url, timeout=aiohttp.ClientTimeout(total=8)) as response:
        return response.status, await response.text()


async def wait_status(http: aiohttp.ClientSession, process: Started, path: str, status: int = 200,
                      deadline_s: float = 90.0) -> str:
    """Poll until `path` answers `status`; the body. Fails early if the process exits."""
    deadline = time.monotonic() + deadline_s
    last: object = None
    while time.monotonic() < deadline:
        if process.proc.returncode is not None:
            raise AssertionError(f"{process.name} exited ({process.proc.returncode}) before {path} answered "
                                 f"{status}; log:\n{process.log_path.read_text()[-3000:]}")
        try:
            last = await get(http, process.url(path))
            if last[0] == status:
                return last[1]
        except (aiohttp.ClientError, TimeoutError) as exc:
            last = exc
        await asyncio.sleep(0.5)
    raise AssertionError(f"{process.name} {path} did not answer {status} in {deadline_s}s: {last}; "
                         f"log:\n{process.log_path.read_text()[-3000:]}")


async def metric(http: aiohttp.ClientSession, process: Started, name: str) -> float:
    """The sum of the samples of `/metrics` whose line starts with `name` (a series, labels and all)."""
    _, text = await get(http, process.url("/metrics"))
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name))


async def eventually(check, timeout_s: float = 60.0) -> None:
    """Poll the async predicate `check` until it holds; its docstring names what did not happen."""
    deadline = time.monotonic() + timeout_s
    while not await check():
        assert time.monotonic() < deadline, f"{check.__doc__} did not happen in {timeout_s}s"
        await asyncio.sleep(0.5)


def readyz_failing(http: aiohttp.ClientSession, process: Started, expected: set[str]):
    """A check for `eventually`: /readyz answers 503 naming exactly the `expected` checks."""
    async def check() -> bool:
        status, text = await get(http, process.url("/readyz"))
        return status == 503 and set(json.loads(text)["failing"]) == expected
    check.__doc__ = f"{process.name}: /readyz failing exactly {sorted(expected)}"
    return check
