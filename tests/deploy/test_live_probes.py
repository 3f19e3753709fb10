"""The chart's processes, started as real processes through the images' entry point with the environment
the chart renders, answer their probes on the rendered ports and serve Prometheus metrics (integration:
the test stack's Kafka and PostgreSQL). The reporting API accepts the key whose hash its Secret holds,
and reporting's nightly CronJob (`sync-ledger`, run as its pod would run it) records the ledger's verdict.

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
from pathlib import Path

import aiohttp
import asyncpg
import yaml

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
              "timer": None}  # the timer serves an empty registry: it has no metrics of its own yet


SYNC_LEDGER = {"reporting": {
    "ledgerDatabase": {"existingSecret": "careledger-reporting-ledger-ro", "urlKey": "url"},
    "jobs": {"sync-ledger": {"args": ["sync-ledger"], "schedule": "15 2 * * *", "suspend": False,
                             "activeDeadlineSeconds": 600,
                             "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}}}}}}


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
        await run_sync_ledger_cronjob(docs, secrets, tmp_path)
    finally:
        await processes.stop()


async def run_sync_ledger_cronjob(docs: list[dict], secrets, tmp_path) -> None:
    cronjob = by_name(docs, "CronJob", "care-careledger-reporting-sync-ledger")
    container = pod_template(cronjob)["spec"]["containers"][0]
    env = process_env(docs, container, secrets)
    env |= {"CARELEDGER_SERVICE": "reporting", "PATH": f"{Path(sys.executable).parent}:{env['PATH']}"}
    result = await asyncio.to_thread(subprocess.run, ["sh", str(ENTRYPOINT), *container["args"]], env=env,
                                     capture_output=True, text=True, timeout=300, cwd=tmp_path, check=False)
    assert result.returncode == 0 and "ledger verify: OK" in result.stdout, result.stdout + result.stderr
    conn = await asyncpg.connect(secrets[("careledger-reporting-database", "url")])
    try:
        assert await conn.fetchval("SELECT ok FROM rp_chain_checks ORDER BY checked_at DESC LIMIT 1") is True
    finally:
        await conn.close()
