"""Kafka TLS and SASL for real: a private broker of this module (deploy/local/stack.sh with its opt-in
SASL_PLAINTEXT and SASL_SSL listeners, a throwaway CA, PLAIN and SCRAM users) and the chart rendered for
SASL_SSL with SCRAM-SHA-512 and a CA Secret, as national-scale.yaml has it.

- The runtime's Kafka clients (health check, topic admin, producer, consumer) connect with the right
  credentials and are refused with a wrong password, an unknown user, none, or an untrusted CA.
- The chart's hook Jobs (migrations, topics) and all five processes, run with exactly the environment
  the chart renders (Secrets filled in, the CA at its mount's stand-in), work over SASL_SSL: a command
  goes through the allocation worker and relay, and the ledger worker and the faust views consume it.
- With the broker stopped under them, every process's /readyz answers 503 naming Kafka.
"""
from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import aiohttp
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from careruntime.codec import KAFKA_HEADERS, encode
from careruntime.health import kafka_check
from careruntime.kafka_security import PREFIX, client_options
from careruntime.stackinfo import kafka_answers
from careruntime.topics import TopicSpec, ensure_topics
from careschemas.registry import make_envelope, payload_model

from .conftest import REPO_ROOT, by_name, container_env, of_kind
from .live import Processes, free_port, free_port_pair, get, process_env, wait_status

pytestmark = pytest.mark.integration

USERS = {"ledger": "ledger-secret", "allocation": "allocation-secret", "topics": "topics-secret"}
COUNCIL = "E08000025"


@dataclass(frozen=True)
class Broker:
    plaintext: str
    sasl: str  # SASL_PLAINTEXT
    sasl_ssl: str
    pg_port: int
    stack_env: dict[str, str]

    @property
    def ca_file(self) -> str:
        return str(Path(self.stack_env["STACK_DIR"]) / "kafka" / "tls" / "ca.crt")

    def dsn(self, db: str) -> str:
        return f"postgresql://careledger@127.0.0.1:{self.pg_port}/{db}"

    @property
    def kafka_pid(self) -> int:
        return int((Path(self.stack_env["STACK_DIR"]) / "kafka" / "kafka.pid").read_text())


def distinct_free_ports(n: int) -> list[int]:
    with ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(n)]
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]


def stack_sh(command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(REPO_ROOT / "deploy" / "local" / "stack.sh"), command], env=env, text=True,
                          capture_output=True, timeout=300, stdin=subprocess.DEVNULL, check=False)


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    kafka, controller, sasl, sasl_ssl, pg = distinct_free_ports(5)
    env = {**os.environ, "STACK_DIR": str(tmp_path_factory.mktemp("sasl-stack")), "KAFKA_PORT": str(kafka),
           "KAFKA_CONTROLLER_PORT": str(controller), "PG_PORT": str(pg), "KAFKA_HEAP": "256m",
           "KAFKA_SASL_PORT": str(sasl), "KAFKA_SASL_SSL_PORT": str(sasl_ssl),
           "KAFKA_SASL_USERS": ",".join(f"{u}:{p}" for u, p in USERS.items())}
    up = stack_sh("up", env)
    try:
        assert up.returncode == 0, f"stack.sh up failed:\n{up.stdout}\n{up.stderr}"
        yield Broker(f"127.0.0.1:{kafka}", f"127.0.0.1:{sasl}", f"127.0.0.1:{sasl_ssl}", pg, env)
    finally:
        down = stack_sh("down", env)
        assert down.returncode == 0, down.stderr


def sasl_env(user: str, password: str, mechanism: str = "PLAIN", ca_file: str | None = None) -> dict[str, str]:
    """SASL_PLAINTEXT, or SASL_SSL when a CA file is given ("" for the system CAs)."""
    env = {f"{PREFIX}SECURITY_PROTOCOL": "SASL_PLAINTEXT" if ca_file is None else "SASL_SSL",
           f"{PREFIX}SASL_MECHANISM": mechanism, f"{PREFIX}SASL_USERNAME": user, f"{PREFIX}SASL_PASSWORD": password}
    if ca_file:
        env[f"{PREFIX}SSL_CAFILE"] = ca_file
    return env


def use(monkeypatch, env: dict[str, str]) -> None:
    for name in [n for n in os.environ if n.startswith(PREFIX)]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize("listener, mechanism", [
    ("sasl", "PLAIN"), ("sasl", "SCRAM-SHA-256"), ("sasl_ssl", "SCRAM-SHA-512"), ("sasl_ssl", "PLAIN")])
async def test_runtime_clients_connect_with_the_right_credentials_only(broker, monkeypatch, listener, mechanism):
    bootstrap = getattr(broker, listener)
    ca = broker.ca_file if listener == "sasl_ssl" else None
    use(monkeypatch, sasl_env("allocation", USERS["allocation"], mechanism, ca))
    await kafka_check(bootstrap, timeout_s=5)()
    assert await kafka_answers(bootstrap)
    topic = f"t.{listener}.{mechanism.lower()}.v1"
    report = await ensure_topics(bootstrap, [TopicSpec(topic, partitions=2)])
    assert report.created == [topic]
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", **client_options())
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"secured", key=b"k")
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", **client_options())
    await consumer.start()
    try:
        record = await asyncio.wait_for(consumer.getone(), timeout=30)
    finally:
        await consumer.stop()
    assert (record.key, record.value) == (b"k", b"secured")

    refusals = [sasl_env("allocation", "wrong-password", mechanism, ca), sasl_env("nobody", "x", mechanism, ca), {}]
    if ca:
        refusals.append(sasl_env("allocation", USERS["allocation"], mechanism, ""))  # the system CAs: untrusted
    for refused in refusals:
        use(monkeypatch, refused)
        with pytest.raises(Exception):  # noqa: B017 - refused at connection, whichever error aiokafka says
            await kafka_check(bootstrap, timeout_s=5)()
        assert not await kafka_answers(bootstrap, timeout_s=5)
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, request_timeout_ms=5000, **client_options())
        with pytest.raises(Exception):  # noqa: B017
            await asyncio.wait_for(producer.start(), timeout=15)
        await producer.stop()


CA_SECRET = "kafka-cluster-ca"


def rendered_for_sasl_ssl(render, broker: Broker) -> list[dict]:
    return render(None, f"kafka.bootstrapServers={broker.sasl_ssl}", "kafka.securityProtocol=SASL_SSL",
                  "kafka.sasl.mechanism=SCRAM-SHA-512", f"kafka.tls.caSecret.name={CA_SECRET}",
                  "kafka.partitions=6", "kafka.replicationFactor=1",
                  "kafka.minInsyncReplicas=1", f"ledger.healthPort={free_port_pair()}",
                  f"allocation.healthPort={free_port_pair()}", f"allocation.views.port={free_port()}",
                  *(f"{who}.kafkaUser.existingSecret={who}-kafka" for who in USERS))


def secrets_for(broker: Broker) -> dict[tuple[str, str], str]:
    secrets = {(f"careledger-{svc}-database", "url"): broker.dsn(svc) for svc in ("ledger", "allocation")}
    for who, password in USERS.items():
        secrets |= {(f"{who}-kafka", "username"): who, (f"{who}-kafka", "password"): password}
    return secrets


def mounted_files(broker: Broker) -> dict[str, str]:
    """Stand-ins for the files the chart mounts: the CA Secret's ca.crt is the test broker's CA."""
    return {f"{PREFIX}SSL_CAFILE": broker.ca_file}


def run_hook_job(docs: list[dict], job: dict, secrets, workdir: Path, files: dict[str, str]) -> None:
    """A hook Job's container as a local process: its command (or the image's entry point with its args)."""
    container = job["spec"]["template"]["spec"]["containers"][0]
    env = process_env(docs, container, secrets)
    env.update({name: path for name, path in files.items() if name in env})
    if "command" in container:  # the topics Job: its ConfigMap is mounted at /etc/careledger/topics
        config = workdir / "topics.json"
        config.write_text(by_name(docs, "ConfigMap", "care-careledger-topics")["data"]["topics.json"])
        argv = [sys.executable, *[str(config) if a.startswith("/etc/careledger/topics/") else a
                                  for a in container["command"][1:]]]
    else:
        service = container["image"].rsplit("/", 1)[-1].split(":")[0]
        argv = [sys.executable, "-m", service, *container["args"]]
    result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=180, cwd=workdir, check=False)
    assert result.returncode == 0, f"{job['metadata']['name']}: {result.stdout}\n{result.stderr}"


def unknown_budget_command() -> tuple[bytes, bytes]:
    payload = payload_model("allocation.EndPersonalBudget.v1").model_validate(
        {"budget_id": "PB-NOT-AGREED", "end_date": date(2026, 9, 30), "reason": "Moved away",
         "effective_date": date(2026, 4, 1)})
    env = make_envelope(payload, id="cmd-sasl-1", source="urn:case-system:test", subject="PB-NOT-AGREED",
                        council_id=COUNCIL, correlation_id="conv-sasl-1", time=datetime(2026, 4, 1, 9, tzinfo=UTC))
    return b"PB-NOT-AGREED", encode(env)


async def metric(http, process, name: str) -> float:
    _, text = await get(http, process.url("/metrics"))
    values = [float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name)]
    return sum(values)


async def eventually(check, timeout_s: float = 60.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, f"{check.__doc__} did not happen in {timeout_s}s"
        await asyncio.sleep(0.5)


async def test_the_rendered_release_runs_over_sasl_ssl_and_is_unready_without_kafka(render, broker, tmp_path,
                                                                                   monkeypatch):
    docs = rendered_for_sasl_ssl(render, broker)
    secrets, files = secrets_for(broker), mounted_files(broker)
    for job in sorted(of_kind(docs, "Job"), key=lambda j: int(j["metadata"]["annotations"]["helm.sh/hook-weight"])):
        run_hook_job(docs, job, secrets, tmp_path, files)
    processes = Processes(tmp_path)
    try:
        for dep in of_kind(docs, "Deployment"):
            component = dep["metadata"]["labels"]["app.kubernetes.io/component"]
            container = dep["spec"]["template"]["spec"]["containers"][0]
            assert container_env(docs, container)[f"{PREFIX}SSL_CAFILE"]["value"] == "/etc/careledger/kafka-ca/ca.crt"
            env = process_env(docs, container, secrets, {"APP_DATADIR": str(tmp_path / "views-data"), **files})
            assert env[f"{PREFIX}SECURITY_PROTOCOL"] == "SASL_SSL" and env[f"{PREFIX}SASL_MECHANISM"] == "SCRAM-SHA-512"
            await processes.start(docs, component, env, cwd=tmp_path)
        by_component = {p.name: p for p in processes.started}
        async with aiohttp.ClientSession() as http:
            for process in processes.started:
                await wait_status(http, process, "/readyz", 200, deadline_s=120)

            use(monkeypatch, sasl_env("allocation", USERS["allocation"], "SCRAM-SHA-512", broker.ca_file))
            producer = AIOKafkaProducer(bootstrap_servers=broker.sasl_ssl, acks="all", **client_options())
            await producer.start()
            try:
                key, value = unknown_budget_command()
                await producer.send_and_wait("allocation.commands.v1", value, key=key, headers=KAFKA_HEADERS)
            finally:
                await producer.stop()
            worker, relay = by_component["allocation-worker"], by_component["allocation-relay"]
            views, ledger = by_component["allocation-views"], by_component["ledger-worker"]

            async def rejected_and_relayed():
                """the allocation worker consumed the command and its relay published the rejection"""
                return (await metric(http, worker, "allocation_consumed_total") == 1
                        and await metric(http, relay, "allocation_relay_relay_published_total") >= 1)

            async def consumed_downstream():
                """the views (faust) and the ledger worker consumed the rejection event"""
                return (await metric(http, views, 'allocation_views_projected_events_total{outcome="not_a_budget_event"}')
                        == 1 and await metric(http, ledger, 'ledger_consumed_total{topic="allocation.events.v1"}') == 1)

            await eventually(rejected_and_relayed)
            await eventually(consumed_downstream)

            os.kill(broker.kafka_pid, signal.SIGKILL)  # the broker this module started
            for process in processes.started:
                body = json.loads(await wait_status(http, process, "/readyz", 503, deadline_s=60))
                assert "kafka" in body["failing"], f"{process.name}: {body}"
                assert "postgres" not in body["failing"], f"{process.name}: PostgreSQL is still up"
    finally:
        await processes.stop()
