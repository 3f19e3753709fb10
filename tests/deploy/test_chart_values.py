"""The chart's values: what the schema refuses, how partitions cap replicas, how Kafka TLS/SASL settings
reach every Kafka client, and that adding a service takes only its name, values and schema entry.
"""
from __future__ import annotations

import copy
import json
import shutil

import pytest
import yaml
from careruntime.kafka_security import PREFIX as KAFKA_PREFIX

from .conftest import (
    AUTOSCALED,
    CHART,
    USES,
    VALUE_SETS,
    by_name,
    chart_values,
    component,
    container_env,
    of_kind,
    pod_specs,
)

SETS = list(VALUE_SETS)
KAFKA_KINDS = {kind for kind, uses in USES.items() if "kafka" in uses} | {""}  # "": the topics Job


@pytest.mark.parametrize("name", SETS)
def test_autoscaling_is_capped_by_partitions(rendered, name):
    docs = rendered[name]
    values = chart_values(name)
    partitions = values["kafka"]["partitions"]
    hpas = {component(h): h for h in of_kind(docs, "HorizontalPodAutoscaler")}
    def process_values(comp: str) -> dict:
        service, kind = comp.split("-")
        return values[service][kind]

    expected = {c for c in AUTOSCALED if process_values(c)["autoscaling"]["enabled"]}
    assert set(hpas) == expected, "HPAs only for the stateless workers, views and API, not the relays or timer"
    for comp, hpa in hpas.items():
        target = hpa["spec"]["scaleTargetRef"]
        assert by_name(docs, "Deployment", target["name"])
        # consumer group members are capped by partitions; an HTTP API by its own maxReplicas
        ceiling = process_values(comp)["autoscaling"]["maxReplicas"] if comp.endswith("-api") else partitions
        assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"] <= ceiling, comp
        assert "replicas" not in by_name(docs, "Deployment", target["name"])["spec"], "the HPA owns replicas"
    for dep in of_kind(docs, "Deployment"):
        if component(dep) in AUTOSCALED - {"reporting-api"} and "replicas" in dep["spec"]:
            assert dep["spec"]["replicas"] <= partitions


def test_more_replicas_than_partitions_is_refused(render):
    result = render(None, "kafka.partitions=4", "allocation.worker.autoscaling.maxReplicas=5", check=False)
    assert result.returncode != 0 and "exceeds kafka.partitions 4" in result.stderr
    result = render(None, "kafka.partitions=2", "allocation.views.autoscaling.enabled=false",
                    "allocation.views.replicas=3", check=False)
    assert result.returncode != 0 and "exceeds kafka.partitions 2" in result.stderr
    docs = render(None, "kafka.partitions=3")  # an unset maxReplicas follows the partitions
    assert {component(h): h["spec"]["maxReplicas"] for h in of_kind(docs, "HorizontalPodAutoscaler")} == {
        "allocation-worker": 3, "allocation-views": 3, "payments-worker": 3,
        "reporting-worker": 3, "reporting-api": 6}  # the API: its own maxReplicas, not the partitions
    # The API is no consumer group member: more replicas than partitions are fine, an unset ceiling is not.
    docs = render(None, "kafka.partitions=2", "reporting.api.autoscaling.maxReplicas=8",
                  "reporting.api.autoscaling.minReplicas=3")
    assert by_name(docs, "HorizontalPodAutoscaler", "care-careledger-reporting-api")["spec"]["maxReplicas"] == 8
    for unset in ("reporting.api.autoscaling.maxReplicas=null", "reporting.api.autoscaling.maxReplicas=''"):
        result = render(None, unset, check=False)
        assert result.returncode != 0 and "/reporting/api/autoscaling" in result.stderr, result.stderr
    result = render(None, "kafka.partitions=2", "payments.worker.autoscaling.enabled=false",
                    "payments.worker.replicas=3", check=False)
    assert result.returncode != 0 and "payments-worker: replicas 3 exceeds kafka.partitions 2" in result.stderr


@pytest.mark.parametrize("bad", [
    "ledger.wroker.replicas=3",                       # typo in a process
    "kafak.partitions=3",                             # typo at the top level
    "kafka.securityProtocol=TLS",                     # not a Kafka protocol
    "ledger.image.tag=latest",                        # unpinned image
    "ledger.extraEnv.LEDGER_DATABASE_URL=postgresql://u:p@h/db",  # a secret in values
    "allocation.extraEnv.LEDGER_GROUP_ID=x",          # another service's prefix
    "security.runAsUser=0",                           # root
    "ledger.relay.autoscaling.enabled=true",          # relays are not autoscaled (one leader)
    "allocation.relay.autoscaling.enabled=true",
    "ledger.extraEnv.CARELEDGER_KAFKA_SASL_PASSWORD=x",  # Kafka credentials only from a Secret
    "reporting.extraEnv.REPORTING_API_KEYS=[]",       # access keys only from a Secret
    "reporting.extraEnv.REPORTING_LEDGER_DATABASE_URL=postgresql://u:p@h/ledger",
    "reporting.api.apiKeys.existingSecret=",          # the API's keys must be named
    "reporting.relay.replicas=2",                     # reporting has no relay
    "payments.timer.autoscaling.enabled=true",        # the timer is not autoscaled
    "payments.extraEnv.PAYMENTS_BANK_DIRECTORY=/x",   # the bank directory only from a Secret
    "reporting.api.ingress.enabled=yes",              # not a boolean
])
def test_values_schema_refuses_typos_and_unsafe_values(render, bad):
    result = render(None, bad, check=False)
    assert result.returncode != 0 and "schema" in result.stderr.lower(), result.stderr


def test_sasl_without_a_credentials_secret_is_refused(render):
    result = render(None, "kafka.securityProtocol=SASL_SSL", check=False)
    assert result.returncode != 0 and "kafkaUser.existingSecret" in result.stderr


@pytest.mark.parametrize("name", SETS)
def test_kafka_tls_and_sasl_settings_reach_every_kafka_client(rendered, name):
    docs = rendered[name]
    kafka = chart_values(name)["kafka"]
    protocol = kafka["securityProtocol"]
    for where, spec in pod_specs(docs):
        container = spec["containers"][0]
        env = container_env(docs, container)
        if container.get("args") == ["migrate"]:
            assert not any(k.startswith(KAFKA_PREFIX) for k in env), where  # PostgreSQL only
            continue
        # the timer and the API use no Kafka (CronJobs may: reporting's rebuild reads the topics)
        if not where.startswith("CronJob/") and container.get("args", [""])[0] not in KAFKA_KINDS:
            assert not any(k.startswith(f"{KAFKA_PREFIX}SASL_") and "secretKeyRef" in v
                           for k, v in env.items()), f"{where}: Kafka credentials it does not use"
            continue
        assert env[f"{KAFKA_PREFIX}SECURITY_PROTOCOL"]["value"] == protocol, where
        if protocol.startswith("SASL_"):
            assert env[f"{KAFKA_PREFIX}SASL_MECHANISM"]["value"] == kafka["sasl"]["mechanism"]
            assert "secretKeyRef" in env[f"{KAFKA_PREFIX}SASL_USERNAME"]
            assert "secretKeyRef" in env[f"{KAFKA_PREFIX}SASL_PASSWORD"]
        else:
            assert not any(k.startswith(f"{KAFKA_PREFIX}SASL_") for k in env), where
        if protocol in ("SSL", "SASL_SSL") and kafka["tls"]["caSecret"]["name"]:
            cafile = env[f"{KAFKA_PREFIX}SSL_CAFILE"]["value"]
            mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
            folder, _, key = cafile.rpartition("/")
            volume = next(v for v in spec["volumes"] if v["name"] == mounts[folder])
            assert volume["secret"]["secretName"] == kafka["tls"]["caSecret"]["name"]
            assert key in {i["path"] for i in volume["secret"]["items"]}


def test_adding_a_service_takes_its_name_its_values_and_its_schema_entry(helm, tmp_path):
    """The steps of docs/operations.md, "Adding a service", on a copy of the chart: an `invoicing` service
    with a worker, a relay and an HTTP API (its blocks copied from allocation's and reporting's)."""
    chart = tmp_path / "careledger"
    shutil.copytree(CHART, chart)
    helpers = chart / "templates" / "_helpers.tpl"
    text = helpers.read_text()
    names = 'list "ledger" "allocation" "payments" "reporting" | toJson'
    assert text.count(names) == 1
    helpers.write_text(text.replace(names, names.replace('"reporting"', '"reporting" "invoicing"')))
    values = yaml.safe_load((chart / "values.yaml").read_text())
    block = copy.deepcopy(values["allocation"])
    del block["views"]
    block.update(healthPort=8101, groupId="invoicing", extraEnv={"INVOICING_BANK_FORMAT": "bacs18"},
                 api=copy.deepcopy(values["reporting"]["api"]))
    block["api"]["port"] = 8105
    block["api"]["apiKeys"]["existingSecret"] = "careledger-invoicing-api-keys"
    block["image"]["repository"] = "invoicing"
    block["database"]["existingSecret"] = "careledger-invoicing-database"
    values["invoicing"] = block
    (chart / "values.yaml").write_text(yaml.safe_dump(values, sort_keys=False))
    schema = json.loads((chart / "values.schema.json").read_text())
    entry = copy.deepcopy(schema["properties"]["allocation"])
    del entry["properties"]["views"]
    entry["required"].remove("views")
    entry["properties"]["api"] = {"$ref": "#/definitions/apiProcess"}
    entry["properties"]["extraEnv"]["propertyNames"]["pattern"] = "^INVOICING_[A-Z0-9_]+$"
    schema["properties"]["invoicing"] = entry
    schema["required"].append("invoicing")
    (chart / "values.schema.json").write_text(json.dumps(schema, indent=2))

    assert helm("lint", "--strict", str(chart)).returncode == 0
    result = helm("template", "care", str(chart), "--namespace", "careledger")
    assert result.returncode == 0, result.stderr
    docs = [d for d in yaml.safe_load_all(result.stdout) if d]
    for kind in ("Deployment", "Service", "PodDisruptionBudget", "NetworkPolicy"):
        for process in ("invoicing-worker", "invoicing-relay", "invoicing-api"):
            by_name(docs, kind, f"care-careledger-{process}")
    hpas = {h["metadata"]["name"] for h in of_kind(docs, "HorizontalPodAutoscaler")}
    assert {"care-careledger-invoicing-worker", "care-careledger-invoicing-api"} <= hpas
    assert "care-careledger-invoicing-relay" not in hpas
    worker = by_name(docs, "Deployment", "care-careledger-invoicing-worker")["spec"]["template"]["spec"]["containers"][0]
    assert worker["image"].endswith("/invoicing:0.1.0") and worker["args"] == ["worker"]
    env = container_env(docs, worker)
    assert env["INVOICING_HEALTH_PORT"]["value"] == "8101" and env["INVOICING_BANK_FORMAT"]["value"] == "bacs18"
    assert env["INVOICING_DATABASE_URL"]["secretKeyRef"]["name"] == "careledger-invoicing-database"
    assert env[f"{KAFKA_PREFIX}SECURITY_PROTOCOL"]["value"] == "PLAINTEXT"
    relay = by_name(docs, "Deployment", "care-careledger-invoicing-relay")["spec"]["template"]["spec"]["containers"][0]
    assert relay["ports"][0]["containerPort"] == 8102 and relay["readinessProbe"]["httpGet"]["path"] == "/readyz"
    api = by_name(docs, "Deployment", "care-careledger-invoicing-api")["spec"]["template"]["spec"]["containers"][0]
    assert api["args"] == ["api"] and api["ports"] == [{"name": "http", "containerPort": 8105, "protocol": "TCP"}]
    api_env = container_env(docs, api)
    assert api_env["INVOICING_HTTP_PORT"]["value"] == "8105"
    assert api_env["INVOICING_API_KEYS"]["secretKeyRef"]["name"] == "careledger-invoicing-api-keys"
    policy = by_name(docs, "NetworkPolicy", "care-careledger-invoicing-api")["spec"]
    assert [p["port"] for rule in policy["ingress"] for p in rule["ports"]] == ["http"]
    assert 9092 not in {p["port"] for rule in policy["egress"] for p in rule["ports"]}, "the API uses no Kafka"
    migrate = by_name(docs, "Job", "care-careledger-invoicing-migrate")["spec"]["template"]["spec"]["containers"][0]
    assert migrate["args"] == ["migrate"]


def test_values_schema_is_strict_at_the_top_levels():
    schema = json.loads((CHART / "values.schema.json").read_text())
    assert schema["additionalProperties"] is False
    for key, prop in schema["properties"].items():
        if prop.get("type") == "object" and key not in ("global", "commonLabels"):
            assert prop.get("additionalProperties") is False, key


def test_the_ledger_worker_runs_as_one_replica_and_more_are_refused(render):
    """Two ledger workers in one consumer group decided differently from one (caretools.bench_replicas:
    1,749 more rejections on the same 201,635 events), so the chart runs exactly one and refuses more."""
    for value_set, path in VALUE_SETS.items():
        docs = render(path)
        assert by_name(docs, "Deployment", "care-careledger-ledger-worker")["spec"]["replicas"] == 1, value_set
        assert "ledger-worker" not in {component(h) for h in of_kind(docs, "HorizontalPodAutoscaler")}, value_set
    for more in (("ledger.worker.replicas=2",), ("ledger.worker.autoscaling.enabled=true",)):
        result = render(None, *more, check=False)
        assert result.returncode != 0 and "ledger.worker: run one replica" in result.stderr, more
