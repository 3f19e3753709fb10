"""The chart's processes, started as real processes with the environment the chart renders, answer
their probes on the rendered ports and serve Prometheus metrics (integration: the test stack's Kafka
and PostgreSQL).

That /readyz turns 503 when a dependency is unreachable: for workers and relays against the same health
app in tests/integration/test_runtime_health.py; for every rendered process, Kafka stopped under them,
in test_kafka_security_live.py (which runs its own broker).
"""
from __future__ import annotations

import json
import uuid

import aiohttp

from .conftest import of_kind
from .live import Processes, free_port, free_port_pair, get, process_env, wait_status

PROBES = ("startupProbe", "livenessProbe", "readinessProbe")


async def test_rendered_processes_answer_their_probes_and_serve_metrics(render, stack, fresh_db, topics, tmp_path):
    suffix = uuid.uuid4().hex[:8]
    views_port = free_port()
    docs = render(None, f"ledger.healthPort={free_port_pair()}", f"allocation.healthPort={free_port_pair()}",
                  f"allocation.views.port={views_port}", f"kafka.bootstrapServers={stack.bootstrap}",
                  f"ledger.groupId=t-ledger-{suffix}", f"allocation.groupId=t-allocation-{suffix}")
    secrets = {("careledger-ledger-database", "url"): await fresh_db("ledger"),
               ("careledger-allocation-database", "url"): await fresh_db("allocation")}
    # The views get topics and an app id of their own, so that they share nothing on the shared broker.
    events = (await topics(["allocation.events.v1"], partitions=6))["allocation.events.v1"]
    views_env = {"ALLOCATION_EVENTS_TOPIC": events, "ALLOCATION_VIEWS_APP_ID": f"t-views-{suffix}",
                 "APP_DATADIR": str(tmp_path / "views-data")}
    processes = Processes(tmp_path)
    try:
        for dep in of_kind(docs, "Deployment"):
            component = dep["metadata"]["labels"]["app.kubernetes.io/component"]
            container = dep["spec"]["template"]["spec"]["containers"][0]
            overrides = views_env if component == "allocation-views" else {}
            await processes.start(docs, component, process_env(docs, container, secrets, overrides), cwd=tmp_path)
        assert {p.name for p in processes.started} == {
            "ledger-worker", "ledger-relay", "allocation-worker", "allocation-relay", "allocation-views"}
        async with aiohttp.ClientSession() as http:
            for process in processes.started:
                for probe in PROBES:
                    await wait_status(http, process, process.probe_path(probe))
                status, body = await get(http, process.url("/readyz"))
                assert status == 200 and json.loads(body)["status"] == "ready", process.name
                status, text = await get(http, process.url("/metrics"))
                service, kind = process.name.split("-")
                namespace = {"worker": service, "relay": f"{service}_relay", "views": "allocation_views"}[kind]
                expected = "_messages_received_total" if kind == "views" else "_consumed_total"  # faust sensors, ours
                assert status == 200 and f"{namespace}{expected}" in text, f"{process.name}: {text[:500]}"
    finally:
        await processes.stop()
