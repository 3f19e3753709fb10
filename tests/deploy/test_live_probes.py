"""The chart's processes, started as real processes through the images' entry point with the environment
the chart renders, answer their probes on the rendered ports and serve Prometheus metrics (integration:
the test stack's Kafka and PostgreSQL). The reporting API accepts the key whose hash its Secret holds,
and reporting's CronJobs, run as their pods would run them, work: `sync-ledger` records the ledger's
verdict, and `rebuild` (once the worker is stopped, as docs/operations.md says) rebuilds the projections
from the ledger's journal and the domain topics.

That /readyz turns 503 when a dependency is unreachable: for every rendered process, Kafka and then
PostgreSQL stopped under them, in test_kafka_security_live.py (which runs a broker and a database of its
own); for workers and relays also against the health app in tests/integration/test_runtime_health.py.
"""
from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import aiohttp
import asyncpg
import yaml
from aiokafka import AIOKafkaProducer
from careruntime.codec import KAFKA_HEADERS, encode
from careschemas.registry import make_envelope, payload_model

from .conftest import PROCESSES, SERVICES, by_name, of_kind, pod_template
from .live import (
    API_COUNCIL,
    API_KEY,
    ENTRYPOINT,
    Processes,
    api_keys_json,
    free_port,
    free_port_pair,
    free_ports_from,
    get,
    process_env,
    wait_status,
    with_local_mounts,
)

PROBES = ("startupProbe", "livenessProbe", "readinessProbe")
# What a process's /metrics must show: a series of its own (faust's sensors for the views).
OWN_SERIES = {"worker": "{service}_consumed_total", "relay": "{service}_relay_relay_published_total",
              "views": "allocation_views_messages_received_total", "api": "reporting_http_requests_total",
              "timer": "{service}_timer_ticks_total"}


SYNC_LEDGER = {"reporting": {
    "ledgerDatabase": {"existingSecret": "careledger-reporting-ledger-ro", "urlKey": "url"},
    "jobs": {name: {"args": args, "schedule": "15 2 * * *", "suspend": name == "rebuild", "activeDeadlineSeconds": 600,
                    "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}}}
             for name, args in (("sync-ledger", ["sync-ledger"]), ("rebuild", ["rebuild", "--from", "journal", "--resume"]))}}}


async def test_rendered_processes_answer_their_probes_and_serve_metrics(render, stack, fresh_db, topics, tmp_path):
    suffix = uuid.uuid4().hex[:8]
    values = tmp_path / "values.yaml"
    values.write_text(yaml.safe_dump(SYNC_LEDGER))
    docs = render(values, f"ledger.healthPort={free_port_pair()}", f"allocation.healthPort={free_port_pair()}",
                  f"allocation.views.port={free_port()}", f"payments.healthPort={free_ports_from(3)}",
                  f"reporting.healthPort={free_port()}", f"reporting.api.port={free_port()}",
                  f"kafka.bootstrapServers={stack.bootstrap}",
                  *(f"{s}.groupId=t-{s}-{suffix}" for s in SERVICES))
    secrets = {(f"careledger-{s}-database", "url"): await fresh_db(s) for s in SERVICES}
    secrets[("careledger-reporting-ledger-ro", "url")] = secrets[("careledger-ledger-database", "url")]
    secrets[("careledger-reporting-api-keys", "api-keys.json")] = api_keys_json()
    # Topics of their own for the views, payments and reporting, so that they share nothing on the shared broker.
    own = await topics(["allocation.events.v1", "payments.commands.v1", "payments.events.v1", "ledger.entries.v1"],
                       partitions=6)
    overrides = {
        "allocation-views": {"ALLOCATION_EVENTS_TOPIC": own["allocation.events.v1"],
                             "ALLOCATION_VIEWS_APP_ID": f"t-views-{suffix}", "APP_DATADIR": str(tmp_path / "views-data")},
        "payments-worker": {"PAYMENTS_ALLOCATION_EVENTS_TOPIC": own["allocation.events.v1"],
                            "PAYMENTS_COMMANDS_TOPIC": own["payments.commands.v1"],
                            "PAYMENTS_EVENTS_TOPIC": own["payments.events.v1"]},
        "reporting-worker": {"REPORTING_ENTRIES_TOPIC": own["ledger.entries.v1"], "REPORTING_DOMAIN_TOPICS": json.dumps(
            [own["allocation.events.v1"], own["payments.events.v1"]])},
    }
    processes = Processes(tmp_path)
    try:
        for dep in of_kind(docs, "Deployment"):
            component = dep["metadata"]["labels"]["app.kubernetes.io/component"]
            container = dep["spec"]["template"]["spec"]["containers"][0]
            env = process_env(docs, container, secrets, overrides.get(component, {}))
            await processes.start(docs, component, with_local_mounts(env, tmp_path / "mounts"), cwd=tmp_path)
        assert {p.name for p in processes.started} == PROCESSES
        async with aiohttp.ClientSession() as http:
            for process in processes.started:
                for probe in PROBES:
                    await wait_status(http, process, process.probe_path(probe))
                status, body = await get(http, process.url("/readyz"))
                assert status == 200 and json.loads(body)["status"] == "ready", process.name
                status, text = await get(http, process.url("/metrics"))
                service, kind = process.name.split("-")
                series = OWN_SERIES[kind]
                assert status == 200, process.name
                if series:
                    assert series.format(service=service) in text, f"{process.name}: {text[:500]}"
            api = next(p for p in processes.started if p.name == "reporting-api")
            reports = api.url(f"/councils/{API_COUNCIL}/reports")
            async with http.get(reports) as anonymous:
                assert anonymous.status == 401
            async with http.get(reports, headers={"Authorization": f"Bearer {API_KEY}"}) as response:
                assert response.status == 200, await response.text()  # the key's hash came from the Secret
                assert {r["name"] for r in (await response.json())["reports"]}
        synced = await run_cronjob(docs, "sync-ledger", secrets, tmp_path)
        assert "ledger verify: OK" in synced
        assert await reporting_value(secrets, "SELECT ok FROM rp_chain_checks ORDER BY checked_at DESC LIMIT 1") is True

        # The rebuild, with the worker stopped: one domain event on the (own) allocation topic is projected.
        await publish_provider_registered(stack.bootstrap, own["allocation.events.v1"])
        worker = next(p for p in processes.started if p.name == "reporting-worker")
        worker.proc.terminate()
        await worker.proc.wait()
        await fresh_projections(secrets)
        rebuilt = await run_cronjob(docs, "rebuild", secrets, tmp_path, overrides["reporting-worker"])
        assert "rebuilt from journal: 0 entries, 0 rejections, 1 domain events" in rebuilt, rebuilt
        assert await reporting_value(secrets, "SELECT count(*) FROM rp_domain_events") == 1
    finally:
        await processes.stop()


async def run_cronjob(docs: list[dict], job: str, secrets, tmp_path, overrides=None) -> str:
    """reporting's CronJob `job`, its container run through the image's entry point; its output."""
    container = pod_template(by_name(docs, "CronJob", f"care-careledger-reporting-{job}"))["spec"]["containers"][0]
    env = process_env(docs, container, secrets, overrides)
    env |= {"CARELEDGER_SERVICE": "reporting", "PATH": f"{Path(sys.executable).parent}:{env['PATH']}"}
    result = await asyncio.to_thread(subprocess.run, ["sh", str(ENTRYPOINT), *container["args"]], env=env,
                                     capture_output=True, text=True, timeout=300, cwd=tmp_path, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


async def reporting_value(secrets, query: str):
    conn = await asyncpg.connect(secrets[("careledger-reporting-database", "url")])
    try:
        return await conn.fetchval(query)
    finally:
        await conn.close()


async def fresh_projections(secrets) -> None:
    """Forget what the live worker projected (its rows and offsets), as a rebuild into a fresh database starts."""
    conn = await asyncpg.connect(secrets[("careledger-reporting-database", "url")])
    try:
        await conn.execute("TRUNCATE rp_domain_events, consumer_offsets")
    finally:
        await conn.close()


async def publish_provider_registered(bootstrap: str, topic: str) -> None:
    payload = payload_model("allocation.ProviderRegistered.v1").model_validate(
        {"provider_id": "P-LIVE", "name": "Live Test Care", "provider_type": "private",
         "effective_date": date(2026, 4, 1)})
    envelope = make_envelope(payload, id="evt-live-1", source="urn:allocation:test", subject="P-LIVE",
                             council_id=API_COUNCIL, correlation_id="conv-live-1",
                             time=datetime(2026, 4, 1, 9, tzinfo=UTC))
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic, encode(envelope), key=b"P-LIVE", headers=KAFKA_HEADERS)
    finally:
        await producer.stop()
