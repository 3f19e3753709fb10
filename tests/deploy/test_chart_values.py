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
    VALUE_SETS,
    by_name,
    chart_values,
    component,
    container_env,
    of_kind,
    pod_specs,
)

SETS = list(VALUE_SETS)


@pytest.mark.parametrize("name", SETS)
def test_autoscaling_is_capped_by_partitions(rendered, name):
    docs = rendered[name]
    values = chart_values(name)
    partitions = values["kafka"]["partitions"]
    hpas = {component(h): h for h in of_kind(docs, "HorizontalPodAutoscaler")}
    expected = {c for c in AUTOSCALED
                if (values["ledger"] if c.startswith("ledger") else values["allocation"])[c.split("-")[1]][
                    "autoscaling"]["enabled"]}
    assert set(hpas) == expected, "HPAs only for the stateless workers and views, not the relays"
    for comp, hpa in hpas.items():
        target = hpa["spec"]["scaleTargetRef"]
        assert by_name(docs, "Deployment", target["name"])
        assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"] <= partitions, comp
        assert "replicas" not in by_name(docs, "Deployment", target["name"])["spec"], "the HPA owns replicas"
    for dep in of_kind(docs, "Deployment"):
        if component(dep) in AUTOSCALED and "replicas" in dep["spec"]:
            assert dep["spec"]["replicas"] <= partitions


def test_more_replicas_than_partitions_is_refused(render):
    result = render(None, "kafka.partitions=4", "ledger.worker.autoscaling.maxReplicas=5", check=False)
    assert result.returncode != 0 and "exceeds kafka.partitions 4" in result.stderr
    result = render(None, "kafka.partitions=2", "allocation.views.autoscaling.enabled=false",
                    "allocation.views.replicas=3", check=False)
    assert result.returncode != 0 and "exceeds kafka.partitions 2" in result.stderr
    docs = render(None, "kafka.partitions=3")  # an unset maxReplicas follows the partitions
    assert {h["spec"]["maxReplicas"] for h in of_kind(docs, "HorizontalPodAutoscaler")} == {3}


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
    """The steps of docs/operations.md, "Adding a service", on a copy of the chart: a `payments` service."""
    chart = tmp_path / "careledger"
    shutil.copytree(CHART, chart)
    helpers = chart / "templates" / "_helpers.tpl"
    text = helpers.read_text()
    assert text.count('list "ledger" "allocation" | toJson') == 1
    helpers.write_text(text.replace('list "ledger" "allocation" | toJson', 'list "ledger" "allocation" "payments" | toJson'))
    values = yaml.safe_load((chart / "values.yaml").read_text())
    block = copy.deepcopy(values["allocation"])
    del block["views"]
    block.update(healthPort=8101, groupId="payments", extraEnv={"PAYMENTS_BANK_FORMAT": "bacs18"})
    block["image"]["repository"] = "payments"
    block["database"]["existingSecret"] = "careledger-payments-database"
    values["payments"] = block
    (chart / "values.yaml").write_text(yaml.safe_dump(values, sort_keys=False))
    schema = json.loads((chart / "values.schema.json").read_text())
    entry = copy.deepcopy(schema["properties"]["allocation"])
    del entry["properties"]["views"]
    entry["required"].remove("views")
    entry["properties"]["extraEnv"]["propertyNames"]["pattern"] = "^PAYMENTS_[A-Z0-9_]+$"
    schema["properties"]["payments"] = entry
    schema["required"].append("payments")
    (chart / "values.schema.json").write_text(json.dumps(schema, indent=2))

    assert helm("lint", "--strict", str(chart)).returncode == 0
    result = helm("template", "care", str(chart), "--namespace", "careledger")
    assert result.returncode == 0, result.stderr
    docs = [d for d in yaml.safe_load_all(result.stdout) if d]
    for kind in ("Deployment", "Service", "PodDisruptionBudget", "NetworkPolicy"):
        for process in ("payments-worker", "payments-relay"):
            by_name(docs, kind, f"care-careledger-{process}")
    assert {h["metadata"]["name"] for h in of_kind(docs, "HorizontalPodAutoscaler")} >= {"care-careledger-payments-worker"}
    assert "care-careledger-payments-relay" not in {h["metadata"]["name"] for h in of_kind(docs, "HorizontalPodAutoscaler")}
    worker = by_name(docs, "Deployment", "care-careledger-payments-worker")["spec"]["template"]["spec"]["containers"][0]
    assert worker["image"].endswith("/payments:0.1.0") and worker["args"] == ["worker"]
    env = container_env(docs, worker)
    assert env["PAYMENTS_HEALTH_PORT"]["value"] == "8101" and env["PAYMENTS_BANK_FORMAT"]["value"] == "bacs18"
    assert env["PAYMENTS_DATABASE_URL"]["secretKeyRef"]["name"] == "careledger-payments-database"
    assert env[f"{KAFKA_PREFIX}SECURITY_PROTOCOL"]["value"] == "PLAINTEXT"
    relay = by_name(docs, "Deployment", "care-careledger-payments-relay")["spec"]["template"]["spec"]["containers"][0]
    assert relay["ports"][0]["containerPort"] == 8102 and relay["readinessProbe"]["httpGet"]["path"] == "/readyz"
    migrate = by_name(docs, "Job", "care-careledger-payments-migrate")["spec"]["template"]["spec"]["containers"][0]
    assert migrate["args"] == ["migrate"]


def test_values_schema_is_strict_at_the_top_levels():
    schema = json.loads((CHART / "values.schema.json").read_text())
    assert schema["additionalProperties"] is False
    for key, prop in schema["properties"].items():
        if prop.get("type") == "object" and key not in ("global", "commonLabels"):
            assert prop.get("additionalProperties") is False, key
