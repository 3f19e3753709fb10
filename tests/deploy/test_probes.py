"""The chart's probes against the code of the processes they probe, without a cluster.

For each Deployment the container's environment (its ConfigMap plus env) is fed to the service's own
pydantic Settings; the port the process then serves (entrypoints: a worker on health_port, a relay on
health_port + 1, the payments timer on health_port + 2, the views on views_port, the reporting API on
its http_port) must be the probe's port, and the probe's path must be a route of the app the process
serves (careruntime.health.health_app, the faust views app, or the reporting FastAPI app).
Readiness must be the check that fails when a dependency is down (/readyz everywhere; that it does
fail is tested live in test_live_probes.py and tests/integration/test_runtime_health.py).
"""
from __future__ import annotations

import importlib
import inspect
import os
import re

import pytest
from careruntime.health import health_app
from careruntime.kafka_security import VARIABLES as KAFKA_SECURITY_VARIABLES
from careruntime.kafka_security import KafkaSecurity
from prometheus_client import CollectorRegistry

from .conftest import USES, VALUE_SETS, container_env, of_kind

SETS = list(VALUE_SETS)
PREFIX = {"ledger": "LEDGER_", "allocation": "ALLOCATION_", "payments": "PAYMENTS_", "reporting": "REPORTING_"}
# Read by careruntime.kafka_security in every process (no service prefix: one per process).
KAFKA_SECURITY = set(KAFKA_SECURITY_VARIABLES)
# What faust reads from the environment in the views pod (faust's own names, no prefix).
FAUST_ENV = {"POD_IP", "NODE_CANONICAL_URL", "APP_DATADIR"}


def settings_class(service: str, kind: str = "worker"):
    """The Settings class the process of `kind` builds from its environment."""
    if service == "reporting" and kind == "api":
        from reporting.web.config import WebSettings
        return WebSettings
    return importlib.import_module(f"{service}.config").Settings


def settings_fields(service: str) -> set[str]:
    """Every setting any process of the service reads (they share the service's ConfigMap)."""
    classes = {settings_class(service, kind) for kind in USES}
    return {f.upper() for cls in classes for f in cls.model_fields}


def processes(docs):
    for dep in of_kind(docs, "Deployment"):
        comp = dep["metadata"]["labels"]["app.kubernetes.io/component"]
        service, kind = comp.split("-")
        container = dep["spec"]["template"]["spec"]["containers"][0]
        yield comp, service, kind, container


def settings_for(docs, service, container, monkeypatch, kind="worker"):
    """The service's Settings as the container would build them from its environment."""
    for name in list(os.environ):
        if name.startswith(PREFIX[service]):
            monkeypatch.delenv(name)
    for name, source in container_env(docs, container).items():
        if name in KAFKA_SECURITY:
            continue  # its files exist only in the pod; test_the_rendered_kafka_security_... checks these
        if "value" in source:
            monkeypatch.setenv(name, source["value"])
        elif "secretKeyRef" in source:
            stand_in = "[]" if name.endswith("_API_KEYS") else "postgresql://from-a-secret@db:5432/x"
            monkeypatch.setenv(name, stand_in)
    return settings_class(service, kind)()


def served_port(kind: str, settings) -> int:
    if kind == "worker":
        return settings.health_port
    if kind == "relay":
        return settings.health_port + 1
    if kind == "timer":
        return settings.health_port + 2
    if kind == "api":
        return settings.http_port
    assert kind == "views", kind
    return settings.views_port


def test_the_served_ports_are_what_the_entrypoints_say():
    """served_port() above mirrors the entry points; fail here when they change."""
    from allocation.entrypoints import run as allocation_run
    from allocation.entrypoints.views import make_app
    from ledger.entrypoints import run as ledger_run
    from payments.entrypoints import run as payments_run
    from reporting.entrypoints import worker as reporting_worker
    from reporting.web import __main__ as reporting_web

    for module in (ledger_run, allocation_run, payments_run, reporting_worker):
        worker = inspect.getsource(module.run_worker)
        assert re.search(r"settings\.health_port\b(?!\s*\+)", worker), "the worker serves on health_port"
        assert not re.search(r"settings\.health_port\s*[-+]", worker)
        if hasattr(module, "run_relay"):
            relay = inspect.getsource(module.run_relay)
            assert re.search(r"settings\.health_port\s*\+\s*1\b", relay), "the relay serves on health_port + 1"
    timer = inspect.getsource(payments_run.run_timer_process)
    assert re.search(r"port=settings\.health_port\s*\+\s*2\b", timer), "the timer serves on health_port + 2"
    assert "web_port=settings.views_port" in inspect.getsource(make_app)
    assert re.search(r"uvicorn\.run\(create_app\(settings\), host=settings\.http_host, port=settings\.http_port\b",
                     inspect.getsource(reporting_web.main)), "the reporting API serves on http_port"


def readyz_timeout(kind: str) -> float:
    """How long the process's /readyz may take before it answers 503 itself."""
    if kind == "views":
        from allocation.entrypoints.views import READYZ_TIMEOUT_S
        return READYZ_TIMEOUT_S
    if kind == "api":
        from reporting.web import app
        (timeout,) = re.findall(r"wait_for\(postgres_check\(state\.pool\)\(\), timeout=([0-9.]+)\)",
                                inspect.getsource(app.create_app))
        return float(timeout)
    return inspect.signature(health_app).parameters["timeout_s"].default


def routes(kind: str, settings) -> set[str]:
    if kind == "views":
        from allocation.entrypoints.views import make_app
        app = make_app(settings)
        return {r.resource.canonical for r in app.web.web_app.router.routes()}
    if kind == "api":
        from reporting.web.app import create_app
        return {r.path for r in create_app(settings).routes if "GET" in getattr(r, "methods", ())}
    return {r.resource.canonical for r in health_app({}, CollectorRegistry()).router.routes()}


def port_number(container: dict, port) -> int:
    if isinstance(port, int):
        return port
    return next(p["containerPort"] for p in container["ports"] if p["name"] == port)


@pytest.mark.parametrize("name", SETS)
def test_probes_point_at_the_paths_and_ports_the_processes_serve(rendered, name, monkeypatch):
    docs = rendered[name]
    for comp, service, kind, container in processes(docs):
        settings = settings_for(docs, service, container, monkeypatch, kind)
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
        assert readiness["httpGet"]["path"] == "/readyz", f"{comp}: readiness must check its dependencies"
        # /readyz answers within its own timeout; the probe must wait longer than that.
        assert readiness["timeoutSeconds"] > readyz_timeout(kind), comp
        assert container["args"] == [kind]


@pytest.mark.parametrize("name", SETS)
def test_every_rendered_variable_is_a_setting_the_service_reads(rendered, name):
    docs = rendered[name]
    for comp, service, kind, container in processes(docs):
        fields = settings_fields(service)
        for var in container_env(docs, container):
            if (kind == "views" and var in FAUST_ENV) or var in KAFKA_SECURITY:
                continue
            assert var.startswith(PREFIX[service]), f"{comp}: {var}"
            assert var[len(PREFIX[service]):] in fields, f"{comp}: {var} is read by nothing"


@pytest.mark.parametrize("name", SETS)
def test_the_rendered_kafka_security_is_what_the_processes_accept(rendered, name, monkeypatch):
    """Every process's CARELEDGER_KAFKA_* (secrets filled in) passes careruntime.kafka_security's checks."""
    from .conftest import chart_values

    docs, kafka = rendered[name], chart_values(name)["kafka"]
    for comp, _, kind, container in processes(docs):
        if "kafka" not in USES[kind]:
            continue  # no Kafka client, no credentials (test_chart_values.py checks none are given)
        env = {var: source.get("value", "from-a-secret") for var, source in container_env(docs, container).items()
               if var in KAFKA_SECURITY}
        security = KafkaSecurity.from_env(env)
        assert security.protocol == kafka["securityProtocol"], comp
        assert security.sasl_mechanism == (kafka["sasl"]["mechanism"] if security.uses_sasl else None), comp
        assert (security.ssl_cafile is not None) == (security.uses_tls and bool(kafka["tls"]["caSecret"]["name"]))


@pytest.mark.parametrize("name", SETS)
def test_the_views_table_is_co_partitioned_with_the_events_topic(rendered, name, monkeypatch):
    from .conftest import chart_values

    docs = rendered[name]
    for comp, service, kind, container in processes(docs):
        if kind == "views":
            settings = settings_for(docs, service, container, monkeypatch, kind)
            assert settings.views_partitions == chart_values(name)["kafka"]["partitions"]
            env = container_env(docs, container)
            assert env["NODE_CANONICAL_URL"]["value"] == f"http://$(POD_IP):{settings.views_port}"
            assert env["POD_IP"]["fieldRef"]["fieldPath"] == "status.podIP"
            mounts = {m["mountPath"] for m in container["volumeMounts"]}
            assert env["APP_DATADIR"]["value"] in mounts and container["workingDir"] in mounts


async def test_the_views_are_unready_until_their_table_is_recovered_and_while_it_recovers():
    """The views' /readyz table check against faust's own recovery state (an app not started here)."""
    from allocation.config import Settings
    from allocation.entrypoints.views import make_app, table_check

    app = make_app(Settings())
    check = table_check(app)
    with pytest.raises(RuntimeError, match="not recovered"):
        await check()
    app.tables.recovery.completed.set()
    await check()
    app.in_recovery = True
    with pytest.raises(RuntimeError, match="recovering"):
        await check()


KAFKA_CLIENTS = {"AIOKafkaConsumer", "AIOKafkaProducer", "AIOKafkaAdminClient", "AIOKafkaClient"}


def clients_without_security(source: str) -> list[int]:
    """Lines that make an aiokafka client without `**client_options()` (careruntime.kafka_security)."""
    import ast

    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            secured = any(k.arg is None and "client_options" in ast.unparse(k.value) for k in node.keywords)
            if name in KAFKA_CLIENTS and not secured:
                lines.append(node.lineno)
    return lines


def test_the_client_check_sees_an_unsecured_client():
    assert clients_without_security("p = AIOKafkaProducer(bootstrap_servers=b, acks='all')") == [1]
    assert clients_without_security("c = aiokafka.AIOKafkaConsumer('t', **opts)") == [1]
    assert clients_without_security("c = AIOKafkaConsumer('t', **client_options())") == []


def test_every_kafka_client_of_a_charted_service_uses_the_kafka_security_options():
    """A client made outside careruntime must pass `**client_options()`, or TLS/SASL would not apply to it."""
    from .conftest import CHART, REPO_ROOT

    names = re.search(r'define "careledger.serviceNames".*?list ((?:"\w+" ?)+)',
                      (CHART / "templates" / "_helpers.tpl").read_text(), re.DOTALL)
    services = re.findall(r'"(\w+)"', names.group(1))
    assert services and "ledger" in services
    offenders = []
    for service in services:
        for path in (REPO_ROOT / "services" / service / "src").rglob("*.py"):
            offenders += [f"{path.relative_to(REPO_ROOT)}:{n}" for n in clients_without_security(path.read_text())]
    assert not offenders, f"Kafka clients without **client_options(): {offenders}"
