"""Running the chart's processes and hook Jobs for real, outside Kubernetes: the environment a rendered
container gets (its ConfigMap, values, Secrets by reference filled in by the test, the downward API), started as
child processes through the images' entry point (deploy/docker/careledger-process <kind>), and polling
their probe endpoints; a private stack (deploy/local/stack.sh) as a `Broker`, the chart's mounted
Secret files at local stand-ins.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from .conftest import REPO_ROOT, by_name, container_env, of_kind

ENTRYPOINT = REPO_ROOT / "deploy" / "docker" / "careledger-process"

# The test runner's own service settings must not leak into a process started from a rendered container.
LEAKY_PREFIXES = ("LEDGER_", "ALLOCATION_", "PAYMENTS_", "REPORTING_", "CARELEDGER_KAFKA_", "CARELEDGER_SERVICE")
# Where the chart mounts volumes the processes write (payments' bank files, reporting's audit packs).
MOUNT_ROOT = "/var/lib/careledger/"
# A reporting API key (its sha256 goes in the Secret the chart references) and the council it may read.
API_KEY, API_COUNCIL = "test-key-for-the-rendered-reporting-api", "E08000025"


def api_keys_json() -> str:
    """The REPORTING_API_KEYS value of the Secret: the hash of API_KEY, never the key."""
    digest = hashlib.sha256(API_KEY.encode()).hexdigest()
    return json.dumps([{"key_sha256": digest, "council_id": API_COUNCIL, "role": "auditor", "label": "live test"}])


def with_local_mounts(env: dict[str, str], root: Path) -> dict[str, str]:
    """Paths of mounted volumes (MOUNT_ROOT...) replaced by folders under root, as a pod would have them."""
    return {name: str(root / value[len(MOUNT_ROOT):]) if value.startswith(MOUNT_ROOT) else value
            for name, value in env.items()}


def free_ports_from(count: int) -> int:
    """A port P with P .. P + count - 1 all free (a payments worker serves P, its relay P + 1, its timer P + 2)."""
    for _ in range(50):
        base = free_port()
        if base >= 65000:
            continue
        with ExitStack() as stack:
            try:
                for offset in range(1, count):
                    stack.enter_context(socket.socket()).bind(("127.0.0.1", base + offset))
            except OSError:
                continue
        return base
    raise RuntimeError(f"no {count} consecutive free ports")


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


# Ports for the processes under test come from below the ephemeral range: a port the kernel hands out
# for "any free port" is one it also gives the processes' own outgoing connections (to Kafka and
# PostgreSQL), which can take it between the pick and the process's bind ("address already in use").
_PICK_FROM = range(20000, max(20001, min(_ephemeral_low(), 65000)))


def _bound(stack: ExitStack, taken: set[int]) -> int:
    """A port free now and not in `taken`, held open (by `stack`) so that later picks skip it."""
    for _ in range(500):
        port = random.choice(_PICK_FROM)
        if port in taken:
            continue
        s = stack.enter_context(socket.socket())
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
        taken.add(port)
        return port
    raise RuntimeError("no free port below the ephemeral range")


def free_port() -> int:
    with ExitStack() as stack:
        return _bound(stack, set())


def distinct_free_ports(n: int) -> list[int]:
    """`n` ports free now, all different (held open together while they are picked)."""
    with ExitStack() as stack:
        taken: set[int] = set()
        return [_bound(stack, taken) for _ in range(n)]


def free_port_pair() -> int:
    """A port P with P and P + 1 both free (a worker serves P, its relay P + 1)."""
    return free_ports_from(2)


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
        # As the image runs it: its entry point, the service it is, its venv first on PATH.
        env = {**env, "CARELEDGER_SERVICE": service, "PATH": f"{Path(sys.executable).parent}:{env.get('PATH', '')}"}
        with log_path.open("ab") as log:  # the child keeps its own copy of the descriptor
            proc = await asyncio.create_subprocess_exec(
                "sh", str(ENTRYPOINT), *container["args"], env=env, stdout=log, stderr=log,
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


@dataclass(frozen=True)
class Broker:
    plaintext: str
    sasl: str  # SASL_PLAINTEXT
    sasl_ssl: str
    ssl: str  # mutual TLS
    pg_port: int
    stack_env: dict[str, str]

    def tls(self, name: str) -> str:
        """A file stack.sh made: ca.crt, client.crt, client.key."""
        return str(Path(self.stack_env["STACK_DIR"]) / "kafka" / "tls" / name)

    def dsn(self, db: str) -> str:
        return f"postgresql://careledger@127.0.0.1:{self.pg_port}/{db}"

    @property
    def kafka_pid(self) -> int:
        return int((Path(self.stack_env["STACK_DIR"]) / "kafka" / "kafka.pid").read_text())


def stack_sh(command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(REPO_ROOT / "deploy" / "local" / "stack.sh"), command], env=env, text=True,
                          capture_output=True, timeout=300, stdin=subprocess.DEVNULL, check=False)


# Where the chart mounts the Kafka TLS files, and the stand-in of each here.
MOUNTS = {"/etc/careledger/kafka-ca/ca.crt": "ca.crt", "/etc/careledger/kafka-client/tls.crt": "client.crt",
          "/etc/careledger/kafka-client/tls.key": "client.key"}


def with_mounted_files(env: dict[str, str], broker: Broker) -> dict[str, str]:
    """The rendered paths of mounted Secrets replaced by the local files they stand for."""
    return {name: broker.tls(MOUNTS[value]) if value in MOUNTS else value for name, value in env.items()}


def run_hook_job(docs: list[dict], job: dict, secrets, workdir: Path, broker: Broker) -> None:
    """A hook Job's container as a local process: its command (or the image's entry point with its args)."""
    container = job["spec"]["template"]["spec"]["containers"][0]
    env = with_mounted_files(process_env(docs, container, secrets), broker)
    if "command" in container:  # the topics Job: its ConfigMap is mounted at /etc/careledger/topics
        config = workdir / "topics.json"
        config.write_text(by_name(docs, "ConfigMap", "care-careledger-topics")["data"]["topics.json"])
        argv = [sys.executable, *[str(config) if a.startswith("/etc/careledger/topics/") else a
                                  for a in container["command"][1:]]]
    else:
        service = container["image"].rsplit("/", 1)[-1].split(":")[0]
        env |= {"CARELEDGER_SERVICE": service, "PATH": f"{Path(sys.executable).parent}:{env['PATH']}"}
        argv = ["sh", str(ENTRYPOINT), *container["args"]]  # the image's entry point
    result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=180, cwd=workdir, check=False)
    assert result.returncode == 0, f"{job['metadata']['name']}: {result.stdout}\n{result.stderr}"
