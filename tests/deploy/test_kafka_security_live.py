"""Kafka TLS and SASL for real: a private broker of this module (deploy/local/stack.sh with its opt-in
SASL_PLAINTEXT, SASL_SSL and mutual-TLS SSL listeners, a throwaway CA, PLAIN and SCRAM users).

- The runtime's Kafka clients (health check, topic admin, producer, consumer) connect with the right
  credentials and are refused with a wrong password, an unknown user, none, an untrusted CA, or (mutual
  TLS) without a client certificate or with one the broker's CA did not sign.
- The chart rendered as national-scale.yaml has it (SASL_SSL, SCRAM-SHA-512, a CA Secret) and as
  small-council.yaml has it plus a client certificate (SSL, mutual TLS): its hook Jobs (migrations,
  topics) and all ten processes, run with exactly the environment the chart renders (Secrets filled
  in, mounted files at stand-ins), work: a command goes through the allocation worker and relay, and
  the ledger, payments and reporting workers and the faust views consume the result.
- With the broker killed under them, every process that uses Kafka answers /readyz with 503 naming
  Kafka, and the two that do not (the payments timer, the reporting API) stay ready; with PostgreSQL
  stopped as well, each names exactly what it uses (the views only Kafka, the timer and API only
  PostgreSQL, the workers and relays both).
"""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
from datetime import UTC, date, datetime

import aiohttp
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from careruntime.codec import KAFKA_HEADERS, encode
from careruntime.health import kafka_check
from careruntime.kafka_security import PREFIX, client_options
from careruntime.stackinfo import kafka_answers
from careruntime.topics import TopicSpec, ensure_topics
from careschemas.registry import make_envelope, payload_model

from .conftest import REPO_ROOT, SERVICES, USES, of_kind
from .live import (
    Broker,
    Processes,
    api_keys_json,
    distinct_free_ports,
    eventually,
    free_port,
    free_port_pair,
    free_ports_from,
    metric,
    process_env,
    readyz_failing,
    run_hook_job,
    stack_sh,
    wait_status,
    with_local_mounts,
    with_mounted_files,
)

pytestmark = pytest.mark.integration

USERS = {**{s: f"{s}-secret" for s in SERVICES}, "topics": "topics-secret"}
COUNCIL = "E08000025"


@pytest.fixture(scope="module")
def broker():
    kafka, controller, sasl, sasl_ssl, ssl, pg = distinct_free_ports(6)
    # Under .local (git-ignored), not pytest's temp folder: concurrent pytest sessions reset that one to
    # 0700, and the PostgreSQL server, running as the postgres user, would lose its way to its data.
    stack_dir = REPO_ROOT / ".local" / f"test-secured-stack-{os.getpid()}"
    env = {**os.environ, "STACK_DIR": str(stack_dir), "KAFKA_PORT": str(kafka),
           "KAFKA_CONTROLLER_PORT": str(controller), "PG_PORT": str(pg), "KAFKA_HEAP": "256m",
           "KAFKA_SASL_PORT": str(sasl), "KAFKA_SASL_SSL_PORT": str(sasl_ssl), "KAFKA_SSL_PORT": str(ssl),
           "KAFKA_SASL_USERS": ",".join(f"{u}:{p}" for u, p in USERS.items())}
    up = stack_sh("up", env)
    try:
        assert up.returncode == 0, f"stack.sh up failed:\n{up.stdout}\n{up.stderr}"
        yield Broker(f"127.0.0.1:{kafka}", f"127.0.0.1:{sasl}", f"127.0.0.1:{sasl_ssl}", f"127.0.0.1:{ssl}", pg, env)
    finally:
        down = stack_sh("down", env)
        assert down.returncode == 0, down.stderr
        shutil.rmtree(stack_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def rogue_client_cert(tmp_path_factory) -> tuple[str, str]:
    """A client certificate the broker's CA did not sign."""
    folder = tmp_path_factory.mktemp("rogue")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=rogue",
                    "-keyout", str(folder / "k.pem"), "-out", str(folder / "c.pem")], check=True, capture_output=True)
    return str(folder / "c.pem"), str(folder / "k.pem")


def security_env(protocol: str, **settings: str) -> dict[str, str]:
    return {f"{PREFIX}SECURITY_PROTOCOL": protocol, **{PREFIX + k.upper(): v for k, v in settings.items() if v}}


def cases(broker: Broker, listener: str, mechanism: str | None, rogue) -> tuple[dict, list[dict]]:
    """The environment that must connect to `listener`, and environments that must be refused there."""
    if listener == "ssl":
        ca, cert, key = broker.tls("ca.crt"), broker.tls("client.crt"), broker.tls("client.key")
        good = security_env("SSL", ssl_cafile=ca, ssl_certfile=cert, ssl_keyfile=key)
        return good, [security_env("SSL", ssl_cafile=ca),  # no client certificate
                      security_env("SSL", ssl_cafile=ca, ssl_certfile=rogue[0], ssl_keyfile=rogue[1]),
                      security_env("SSL", ssl_certfile=cert, ssl_keyfile=key),  # the system CAs: untrusted
                      {}]
    protocol = "SASL_SSL" if listener == "sasl_ssl" else "SASL_PLAINTEXT"
    ca = broker.tls("ca.crt") if protocol == "SASL_SSL" else ""

    def sasl(user: str, password: str, cafile: str = ca) -> dict[str, str]:
        return security_env(protocol, sasl_mechanism=mechanism, sasl_username=user, sasl_password=password,
                            ssl_cafile=cafile)

    refused = [sasl("allocation", "wrong-password"), sasl("nobody", "x"), {}]
    if protocol == "SASL_SSL":
        refused.append(sasl("allocation", USERS["allocation"], cafile=""))  # the system CAs: untrusted
    return sasl("allocation", USERS["allocation"]), refused


def use(monkeypatch, env: dict[str, str]) -> None:
    for name in [n for n in os.environ if n.startswith(PREFIX)]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize("listener, mechanism", [
    ("sasl", "PLAIN"), ("sasl", "SCRAM-SHA-256"), ("sasl_ssl", "SCRAM-SHA-512"), ("sasl_ssl", "PLAIN"), ("ssl", None)])
async def test_runtime_clients_connect_with_the_right_credentials_only(broker, monkeypatch, rogue_client_cert,
                                                                       listener, mechanism):
    bootstrap = getattr(broker, listener)
    good, refusals = cases(broker, listener, mechanism, rogue_client_cert)
    use(monkeypatch, good)
    await kafka_check(bootstrap, timeout_s=5)()
    assert await kafka_answers(bootstrap)
    topic = f"t.{listener}.{(mechanism or 'tls').lower()}.v1"
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

    for refused in refusals:
        use(monkeypatch, refused)
        with pytest.raises(Exception):  # noqa: B017 - refused at connection, whichever error aiokafka says
            await kafka_check(bootstrap, timeout_s=5)()
        assert not await kafka_answers(bootstrap, timeout_s=5)
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, request_timeout_ms=5000, **client_options())
        with pytest.raises(Exception):  # noqa: B017
            await asyncio.wait_for(producer.start(), timeout=15)
        await producer.stop()


CA_SECRET, CLIENT_SECRET = "kafka-cluster-ca", "careledger-kafka-client"
RELEASES = {
    # national-scale.yaml's Kafka: SASL_SSL with SCRAM-SHA-512, one user per service, a CA Secret
    "sasl-ssl-scram": ("sasl_ssl", ["kafka.securityProtocol=SASL_SSL", "kafka.sasl.mechanism=SCRAM-SHA-512",
                                    f"kafka.tls.caSecret.name={CA_SECRET}",
                                    *(f"{who}.kafkaUser.existingSecret={who}-kafka" for who in USERS)]),
    # small-council.yaml's Kafka (SSL, a CA Secret) with a client certificate: mutual TLS
    "mutual-tls": ("ssl", ["kafka.securityProtocol=SSL", f"kafka.tls.caSecret.name={CA_SECRET}",
                           f"kafka.tls.clientSecret={CLIENT_SECRET}"]),
}


def render_release(render, broker: Broker, release: str) -> list[dict]:
    listener, values = RELEASES[release]
    return render(None, f"kafka.bootstrapServers={getattr(broker, listener)}", *values, "kafka.partitions=6",
                  "kafka.replicationFactor=1", "kafka.minInsyncReplicas=1", f"ledger.healthPort={free_port_pair()}",
                  f"allocation.healthPort={free_port_pair()}", f"allocation.views.port={free_port()}",
                  f"payments.healthPort={free_ports_from(3)}", f"reporting.healthPort={free_port()}",
                  f"reporting.api.port={free_port()}")


def secrets_for(broker: Broker) -> dict[tuple[str, str], str]:
    secrets = {(f"careledger-{svc}-database", "url"): broker.dsn(svc) for svc in SERVICES}
    secrets[("careledger-reporting-api-keys", "api-keys.json")] = api_keys_json()
    for who, password in USERS.items():
        secrets |= {(f"{who}-kafka", "username"): who, (f"{who}-kafka", "password"): password}
    return secrets


def unknown_budget_command(command_id: str) -> tuple[bytes, bytes]:
    payload = payload_model("allocation.EndPersonalBudget.v1").model_validate(
        {"budget_id": "PB-NOT-AGREED", "end_date": date(2026, 9, 30), "reason": "Moved away",
         "effective_date": date(2026, 4, 1)})
    env = make_envelope(payload, id=command_id, source="urn:case-system:test", subject="PB-NOT-AGREED",
                        council_id=COUNCIL, correlation_id=f"conv-{command_id}",
                        time=datetime(2026, 4, 1, 9, tzinfo=UTC))
    return b"PB-NOT-AGREED", encode(env)


@pytest.mark.parametrize("release", list(RELEASES))
async def test_the_rendered_release_runs_over_tls_and_sasl_and_is_unready_without_kafka(
        render, broker, tmp_path, monkeypatch, rogue_client_cert, release):
    docs = render_release(render, broker, release)
    secrets = secrets_for(broker)
    for job in sorted(of_kind(docs, "Job"), key=lambda j: int(j["metadata"]["annotations"]["helm.sh/hook-weight"])):
        await asyncio.to_thread(run_hook_job, docs, job, secrets, tmp_path, broker)
    processes = Processes(tmp_path)
    try:
        for dep in of_kind(docs, "Deployment"):
            component = dep["metadata"]["labels"]["app.kubernetes.io/component"]
            container = dep["spec"]["template"]["spec"]["containers"][0]
            env = process_env(docs, container, secrets, {"APP_DATADIR": str(tmp_path / "views-data")})
            assert env[f"{PREFIX}SSL_CAFILE"] == "/etc/careledger/kafka-ca/ca.crt", component
            env = with_local_mounts(with_mounted_files(env, broker), tmp_path / "mounts")
            await processes.start(docs, component, env, cwd=tmp_path)
        by_component = {p.name: p for p in processes.started}
        async with aiohttp.ClientSession() as http:
            for process in processes.started:
                await wait_status(http, process, "/readyz", 200, deadline_s=120)

            listener, _ = RELEASES[release]
            use(monkeypatch, cases(broker, listener, "SCRAM-SHA-512", rogue_client_cert)[0])
            producer = AIOKafkaProducer(bootstrap_servers=getattr(broker, listener), acks="all", **client_options())
            await producer.start()
            try:
                key, value = unknown_budget_command(f"cmd-{release}")
                await producer.send_and_wait("allocation.commands.v1", value, key=key, headers=KAFKA_HEADERS)
            finally:
                await producer.stop()
            worker, relay = by_component["allocation-worker"], by_component["allocation-relay"]
            views = by_component["allocation-views"]

            # The processes are new, so their counters start at 0: any count is this release's traffic.
            async def rejected_and_relayed():
                """the allocation worker consumed the command and its relay published the rejection"""
                return (await metric(http, worker, "allocation_consumed_total") >= 1
                        and await metric(http, relay, "allocation_relay_relay_published_total") >= 1)

            async def consumed_downstream():
                """the views (faust) and the ledger, payments and reporting workers consumed the rejection event"""
                series = '_consumed_total{topic="allocation.events.v1"}'
                consumed = [await metric(http, by_component[f"{svc}-worker"], svc + series)
                            for svc in ("ledger", "payments", "reporting")]
                return (await metric(http, views, 'allocation_views_projected_events_total{outcome="not_a_budget_event"}')
                        >= 1 and min(consumed) >= 1)

            await eventually(rejected_and_relayed)
            await eventually(consumed_downstream)

            os.kill(broker.kafka_pid, signal.SIGKILL)  # the broker this module started
            try:
                for process in processes.started:
                    if "kafka" not in USES[process.kind]:
                        continue
                    body = json.loads(await wait_status(http, process, "/readyz", 503, deadline_s=60))
                    assert "kafka" in body["failing"], f"{process.name}: {body}"
                    assert "postgres" not in body["failing"], f"{process.name}: PostgreSQL is still up"
                for process in processes.started:  # what uses no Kafka stays ready without it
                    if "kafka" not in USES[process.kind]:
                        await wait_status(http, process, "/readyz", 200, deadline_s=5)
                # Then PostgreSQL goes too: each process names exactly what it uses.
                down = await asyncio.to_thread(stack_sh, "down", broker.stack_env)
                assert down.returncode == 0, down.stderr
                for process in processes.started:
                    await eventually(readyz_failing(http, process, USES[process.kind]), timeout_s=60)
            finally:  # the broker and PostgreSQL again, for what runs after
                up = await asyncio.to_thread(stack_sh, "up", broker.stack_env)
                assert up.returncode == 0, f"stack.sh up failed:\n{up.stdout}\n{up.stderr}"
    finally:
        await processes.stop()
