"""The chart's probes against the code of the processes they probe, without a cluster.

For each Deployment the container's environment (its ConfigMap plus env) is fed to the service's own
pydantic Settings; the port the process then serves (entrypoints: a worker on health_port, a relay on
health_port + 1, the views on views_port) must be the probe's port, and the probe's path must be a
route of the app the process serves (careruntime.health.health_app, or the faust views app).
Readiness must be the check that fails when a dependency is down (/readyz; for the views, which have
no /readyz yet, the rendered exec probe is run here against a closed port and must fail in time).
"""
from __future__ import annotations

import inspect
import os
import re
import socket
import subprocess
import sys
import time

import pytest
from careruntime.health import health_app
from prometheus_client import CollectorRegistry

from .conftest import VALUE_SETS, container_env, of_kind

SETS = list(VALUE_SETS)
PREFIX = {"ledger": "LEDGER_", "allocation": "ALLOCATION_"}
# Kafka security settings the chart renders but the services do not read yet (docs/operations.md,
# "Kafka TLS and SASL"). Once a service's Settings has them, they drop out of this list by themselves.
PENDING_KAFKA_SECURITY = {"KAFKA_SECURITY_PROTOCOL", "KAFKA_SASL_MECHANISM", "KAFKA_SASL_USERNAME",
                          "KAFKA_SASL_PASSWORD", "KAFKA_SSL_CAFILE", "KAFKA_SSL_CERTFILE", "KAFKA_SSL_KEYFILE"}
# What faust reads from the environment in the views pod (faust's own names, no prefix).
FAUST_ENV = {"POD_IP", "NODE_CANONICAL_URL", "APP_DATADIR"}


def settings_class(service: str):
    if service == "ledger":
        from ledger.config import Settings
    else:
        from allocation.config import Settings
    return Settings


def processes(docs):
    for dep in of_kind(docs, "Deployment"):
        comp = dep["metadata"]["labels"]["app.kubernetes.io/component"]
        service, kind = comp.split("-")
        container = dep["spec"]["template"]["spec"]["containers"][0]
        yield comp, service, kind, container


def settings_for(docs, service, container, monkeypatch):
    """The service's Settings as the container would build them from its environment."""
    for name in list(os.environ):
        if name.startswith(PREFIX[service]):
            monkeypatch.delenv(name)
    for name, source in container_env(docs, container).items():
        if "value" in source:
            monkeypatch.setenv(name, source["value"])
        elif "secretKeyRef" in source:
            monkeypatch.setenv(name, "postgresql://from-a-secret@db:5432/x")
    return settings_class(service)()


def served_port(kind: str, settings) -> int:
    if kind == "worker":
        return settings.health_port
    if kind == "relay":
        return settings.health_port + 1
    assert kind == "views", kind
    return settings.views_port


def test_the_served_ports_are_what_the_entrypoints_say():
    """served_port() above mirrors the entry points; fail here when they change."""
    from allocation.entrypoints import run as allocation_run
    from allocation.entrypoints.views import make_app
    from ledger.entrypoints import run as ledger_run

    for module in (ledger_run, allocation_run):
        worker, relay = inspect.getsource(module.run_worker), inspect.getsource(module.run_relay)
        assert re.search(r"settings\.health_port\b(?!\s*\+)", worker), "the worker serves on health_port"
        assert not re.search(r"settings\.health_port\s*[-+]", worker)
        assert re.search(r"settings\.health_port\s*\+\s*1\b", relay), "the relay serves on health_port + 1"
    assert "web_port=settings.views_port" in inspect.getsource(make_app)


def routes(kind: str, settings) -> set[str]:
    if kind == "views":
        from allocation.entrypoints.views import make_app
        app = make_app(settings)
        return {r.resource.canonical for r in app.web.web_app.router.routes()}
    return {r.resource.canonical for r in health_app({}, CollectorRegistry()).router.routes()}


def port_number(container: dict, port) -> int:
    if isinstance(port, int):
        return port
    return next(p["containerPort"] for p in container["ports"] if p["name"] == port)


@pytest.mark.parametrize("name", SETS)
def test_probes_point_at_the_paths_and_ports_the_processes_serve(rendered, name, monkeypatch):
    docs = rendered[name]
    readyz_timeout = inspect.signature(health_app).parameters["timeout_s"].default
    for comp, service, kind, container in processes(docs):
        settings = settings_for(docs, service, container, monkeypatch)
        port = served_port(kind, settings)
        served = routes(kind, settings)
        assert [p["containerPort"] for p in container["ports"]] == [port], comp
        for probe_name in ("startupProbe", "livenessProbe", "readinessProbe"):
            probe = container[probe_name]
            if "httpGet" in probe:
                assert port_number(container, probe["httpGet"]["port"]) == port, f"{comp} {probe_name}"
                assert probe["httpGet"]["path"] in served, f"{comp} {probe_name}: {probe['httpGet']['path']}"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", comp
        readiness = container["readinessProbe"]
        if kind == "views":
            assert "/readyz" not in served, "the views serve /readyz now: probe it instead of the exec check"
            command = readiness["exec"]["command"]
            assert command[:2] == ["python", "-c"] and "kafka_check" in command[2], comp
            assert "ALLOCATION_KAFKA_BOOTSTRAP" in command[2] and settings.kafka_bootstrap, comp
        else:
            assert readiness["httpGet"]["path"] == "/readyz", f"{comp}: readiness must check PostgreSQL and Kafka"
            # /readyz answers within its own timeout; the probe must wait longer than that.
            assert readiness["timeoutSeconds"] > readyz_timeout, comp
        assert container["args"] == [kind]


@pytest.mark.parametrize("name", SETS)
def test_every_rendered_variable_is_a_setting_the_service_reads(rendered, name):
    docs = rendered[name]
    for comp, service, kind, container in processes(docs):
        fields = {f.upper() for f in settings_class(service).model_fields}
        for var in container_env(docs, container):
            if kind == "views" and var in FAUST_ENV:
                continue
            assert var.startswith(PREFIX[service]), f"{comp}: {var}"
            setting = var[len(PREFIX[service]):]
            assert setting in fields or setting in PENDING_KAFKA_SECURITY, f"{comp}: {var} is read by nothing"


@pytest.mark.parametrize("name", SETS)
def test_the_views_table_is_co_partitioned_with_the_events_topic(rendered, name, monkeypatch):
    from .conftest import chart_values

    docs = rendered[name]
    for comp, service, kind, container in processes(docs):
        if kind == "views":
            settings = settings_for(docs, service, container, monkeypatch)
            assert settings.views_partitions == chart_values(name)["kafka"]["partitions"]
            env = container_env(docs, container)
            assert env["NODE_CANONICAL_URL"]["value"] == f"http://$(POD_IP):{settings.views_port}"
            assert env["POD_IP"]["fieldRef"]["fieldPath"] == "status.podIP"
            mounts = {m["mountPath"] for m in container["volumeMounts"]}
            assert env["APP_DATADIR"]["value"] in mounts and container["workingDir"] in mounts


def views_readiness(docs) -> dict:
    return next(c for _, _, kind, c in processes(docs) if kind == "views")["readinessProbe"]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_exec_probe(probe: dict, bootstrap: str) -> tuple[int, float]:
    command = [sys.executable if probe["exec"]["command"][0] == "python" else probe["exec"]["command"][0],
               *probe["exec"]["command"][1:]]
    env = {**os.environ, "ALLOCATION_KAFKA_BOOTSTRAP": bootstrap}
    start = time.monotonic()
    result = subprocess.run(command, check=False, env=env, capture_output=True, text=True, timeout=probe["timeoutSeconds"] + 5)
    return result.returncode, time.monotonic() - start


def test_the_views_readiness_probe_fails_when_kafka_is_unreachable(rendered):
    probe = views_readiness(rendered["default"])
    code, seconds = run_exec_probe(probe, f"127.0.0.1:{closed_port()}")
    assert code != 0
    assert seconds < probe["timeoutSeconds"], "the check must fail before the kubelet gives up on it"


def test_the_views_readiness_probe_passes_against_a_real_broker(rendered, stack):
    probe = views_readiness(rendered["default"])
    code, seconds = run_exec_probe(probe, stack.bootstrap)
    assert code == 0 and seconds < probe["timeoutSeconds"]
