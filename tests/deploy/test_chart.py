"""The Helm chart deploy/helm/careledger, for its defaults and every value set in deploy/helm/values.

Lint, offline schema validation of every rendered object, and the properties an operator relies on:
a Deployment per process, secrets only by reference, non-root pods, hooks that can run before the
release exists, autoscaling capped by partitions, the topic list in step with deploy/topics.yaml, and
a values schema that refuses typos. Probes against the code: test_probes.py; network policies: test_chart_network.py.
"""
from __future__ import annotations

import re
import subprocess
import sys

import pytest
from careruntime.topics import load_topic_specs

from .conftest import (
    CHART,
    PROCESSES,
    REPO_ROOT,
    SERVICES,
    VALUE_SETS,
    by_name,
    chart_values,
    component,
    container_env,
    of_kind,
    pod_specs,
)

SETS = list(VALUE_SETS)
# Kinds whose schemas are CRDs (Prometheus Operator), not in kubernetes-validate's bundle.
CRD_KINDS = {"ServiceMonitor", "PrometheusRule"}
SECRETISH = re.compile(r"PASSWORD|SECRET|TOKEN|DATABASE_URL|SASL_USERNAME|_KEY$|API_KEYS", re.IGNORECASE)
CREDENTIAL_URL = re.compile(r"://[^/@\s:]+:[^/@\s]+@")


def hook_weight(doc: dict) -> int:
    return int(doc["metadata"].get("annotations", {}).get("helm.sh/hook-weight", "0"))


def is_hook(doc: dict) -> bool:
    return "helm.sh/hook" in doc["metadata"].get("annotations", {})


@pytest.mark.parametrize("name", SETS)
def test_helm_lint_strict(helm, name):
    args = ["lint", "--strict", str(CHART)]
    if VALUE_SETS[name] is not None:
        args += ["-f", str(VALUE_SETS[name])]
    result = helm(*args)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", SETS)
def test_every_manifest_validates_offline(render, helm, name, tmp_path):
    result = helm("template", "care", str(CHART), "--kube-version", "1.33.0",
                  *(["-f", str(VALUE_SETS[name])] if VALUE_SETS[name] else []))
    assert result.returncode == 0, result.stderr
    manifest = tmp_path / f"{name}.yaml"
    manifest.write_text(result.stdout)
    validate = subprocess.run(
        [sys.executable, "-m", "kubernetes_validate", "--strict", "-k", "1.33", str(manifest)],
        check=False, capture_output=True, text=True, timeout=120)
    lines = validate.stdout.splitlines()
    assert validate.returncode == 0 and not [ln for ln in lines if ln.startswith(("ERROR", "FATAL"))], \
        validate.stdout + validate.stderr
    # Only the CRD kinds may go unvalidated, and everything else must have passed.
    skipped = [ln for ln in lines if ln.startswith("WARN")]
    assert all(any(f"kind {k} " in ln for k in CRD_KINDS) for ln in skipped), skipped
    docs = render(VALUE_SETS[name])
    passed = [ln for ln in lines if ln.startswith("INFO") and " passed for resource " in ln]
    assert len(passed) == len([d for d in docs if d["kind"] not in CRD_KINDS])


@pytest.mark.parametrize("name", SETS)
def test_a_deployment_per_process_with_service_pdb_and_network_policy(rendered, name):
    docs = rendered[name]
    deployments = {component(d): d for d in of_kind(docs, "Deployment")}
    assert set(deployments) == PROCESSES
    for comp, dep in deployments.items():
        pod_labels = dep["spec"]["template"]["metadata"]["labels"]
        selector = dep["spec"]["selector"]["matchLabels"]
        assert selector.items() <= pod_labels.items()
        for kind in ("PodDisruptionBudget", "NetworkPolicy", "Service"):
            matching = [d for d in of_kind(docs, kind) if component(d) == comp]
            assert len(matching) == 1, f"{comp}: {kind}"
            sel = matching[0]["spec"]["selector"]["matchLabels"] if kind == "PodDisruptionBudget" else (
                matching[0]["spec"]["podSelector"]["matchLabels"] if kind == "NetworkPolicy"
                else matching[0]["spec"]["selector"])
            assert sel.items() <= pod_labels.items(), f"{comp}: the {kind} selects other pods"
        spec = dep["spec"]["template"]["spec"]
        assert spec["serviceAccountName"] == by_name(docs, "ServiceAccount", spec["serviceAccountName"])[
            "metadata"]["name"]
        container = spec["containers"][0]
        assert container["resources"]["requests"].keys() >= {"cpu", "memory"}
        assert "memory" in container["resources"]["limits"]


@pytest.mark.parametrize("name", SETS)
def test_no_secret_values_in_configmaps_env_or_values(rendered, name):
    docs = rendered[name]
    assert not of_kind(docs, "Secret"), "the chart must only reference Secrets"
    for cm in of_kind(docs, "ConfigMap"):
        for key, value in cm["data"].items():
            assert not SECRETISH.search(key), f"{cm['metadata']['name']}: {key} belongs in a Secret"
            assert not CREDENTIAL_URL.search(value), f"{cm['metadata']['name']}: {key} holds credentials"
    for where, spec in pod_specs(docs):
        for container in spec["containers"]:
            for name_, source in container_env(docs, container).items():
                if SECRETISH.search(name_):
                    assert "secretKeyRef" in source, f"{where}: {name_} must come from a Secret"
                assert not CREDENTIAL_URL.search(str(source.get("value", ""))), f"{where}: {name_}"
    for key, value in _leaves(chart_values(name)):
        assert not CREDENTIAL_URL.search(str(value)), f"a credential in the values: {key}"
        leaf = re.sub(r"\[\d+\]$", "", key.rsplit(".", 1)[-1])  # the setting's own name, e.g. passwordKey
        if re.search(r"password|secret|token", leaf, re.IGNORECASE) and not leaf.endswith(("Key", "Secret", "Secrets")):
            assert not value, f"{key}: values name Secrets and keys, never secret values"


def _leaves(tree, path=""):
    if isinstance(tree, dict):
        for k, v in tree.items():
            yield from _leaves(v, f"{path}.{k}" if path else k)
    elif isinstance(tree, list):
        for i, v in enumerate(tree):
            yield from _leaves(v, f"{path}[{i}]")
    else:
        yield path, tree


@pytest.mark.parametrize("name", SETS)
def test_pods_run_as_non_root_read_only_without_privileges(rendered, name):
    for where, spec in pod_specs(rendered[name]):
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True and pod["runAsUser"] > 0, where
        assert pod["seccompProfile"]["type"] == "RuntimeDefault", where
        assert spec["automountServiceAccountToken"] is False, where
        for container in spec["containers"]:
            sc = container["securityContext"]
            assert sc["runAsNonRoot"] is True, where
            assert sc["allowPrivilegeEscalation"] is False, where
            assert sc["readOnlyRootFilesystem"] is True, where
            assert sc.get("privileged", False) is False, where
            assert sc["capabilities"]["drop"] == ["ALL"], where
            assert not sc["capabilities"].get("add"), where
            mounts = {m["mountPath"] for m in container["volumeMounts"]}
            assert "/tmp" in mounts, f"{where}: a read-only root needs a writable /tmp"


@pytest.mark.parametrize("name", SETS)
def test_migrations_and_topics_run_as_pre_install_and_pre_upgrade_hooks(rendered, name):
    docs = rendered[name]
    jobs = {component(j): j for j in of_kind(docs, "Job")}
    assert set(jobs) == {f"{s}-migrate" for s in SERVICES} | {"topics"}
    for service in SERVICES:
        job = jobs[f"{service}-migrate"]
        container = job["spec"]["template"]["spec"]["containers"][0]
        assert container["args"] == ["migrate"] and f"/{service}:" in container["image"]
        assert container_env(docs, container)[f"{service.upper()}_DATABASE_URL"]["secretKeyRef"]
    assert jobs["topics"]["spec"]["template"]["spec"]["containers"][0]["command"][:4] == [
        "python", "-m", "careruntime.topics", "ensure"]
    for job in jobs.values():
        hooks = set(job["metadata"]["annotations"]["helm.sh/hook"].split(","))
        assert hooks == {"pre-install", "pre-upgrade"}
        spec = job["spec"]["template"]["spec"]
        assert spec["restartPolicy"] == "Never"
        # A pre-install hook runs before the release's own objects exist: everything it uses must be
        # a hook of lower weight (or a Secret the operator made).
        needs = [("ServiceAccount", spec["serviceAccountName"])]
        needs += [("ConfigMap", v["configMap"]["name"]) for v in spec.get("volumes", []) if "configMap" in v]
        for c in spec["containers"]:
            needs += [("ConfigMap", s["configMapRef"]["name"]) for s in c.get("envFrom", [])]
        for kind, obj_name in needs:
            dependency = by_name(docs, kind, obj_name)
            assert is_hook(dependency) and hook_weight(dependency) < hook_weight(job), f"{kind} {obj_name}"
    assert hook_weight(jobs["topics"]) < hook_weight(jobs["ledger-migrate"])


@pytest.mark.parametrize("name", SETS)
def test_topics_match_deploy_topics_yaml(rendered, name, tmp_path):
    docs = rendered[name]
    kafka = chart_values(name)["kafka"]
    config = tmp_path / "topics.json"
    config.write_text(by_name(docs, "ConfigMap", "care-careledger-topics")["data"]["topics.json"])
    chart = {s.name: s for s in load_topic_specs(config)}
    repo = {s.name: s for s in load_topic_specs(REPO_ROOT / "deploy" / "topics.yaml")}
    assert chart.keys() == repo.keys()
    for topic, spec in chart.items():
        local = repo[topic]
        assert spec.partitions == (1 if local.partitions == 1 else kafka["partitions"]), topic
        assert spec.replication_factor == kafka["replicationFactor"]
        cluster_specific = {"min.insync.replicas"}
        assert {k: v for k, v in spec.config.items() if k not in cluster_specific} == \
               {k: v for k, v in local.config.items() if k not in cluster_specific}, topic
        assert spec.config["min.insync.replicas"] == str(kafka["minInsyncReplicas"])
        assert spec.config["retention.ms"] == "-1"  # replay from offset zero needs every record


@pytest.mark.parametrize("name", SETS)
def test_service_monitor_and_alerts_use_real_ports_and_metric_names(rendered, name, metric_names):
    docs = rendered[name]
    enabled = chart_values(name)["metrics"]
    monitors, rules = of_kind(docs, "ServiceMonitor"), of_kind(docs, "PrometheusRule")
    assert len(monitors) == int(enabled["serviceMonitor"]["enabled"])
    assert len(rules) == int(enabled["prometheusRule"]["enabled"])
    for monitor in monitors:
        selector = monitor["spec"]["selector"]["matchLabels"]
        services = [s for s in of_kind(docs, "Service") if selector.items() <= s["metadata"]["labels"].items()]
        assert {component(s) for s in services} == PROCESSES
        ports = {e["port"] for e in monitor["spec"]["endpoints"]}
        assert all(e["path"] == "/metrics" for e in monitor["spec"]["endpoints"])
        for service in services:  # each Service is scraped on one port: the one serving /metrics
            deployment = by_name(docs, "Deployment", service["metadata"]["name"])
            container = deployment["spec"]["template"]["spec"]["containers"][0]
            (port,) = {p["name"] for p in service["spec"]["ports"]} & ports
            assert port == container["ports"][0]["name"], component(service)
    for rule in rules:
        for group in rule["spec"]["groups"]:
            for alert in group["rules"]:
                used = set(re.findall(rf"\b((?:{'|'.join(SERVICES)})_[a-z_]+)\b", alert["expr"]))
                assert used <= metric_names, f"{alert['alert']}: unknown metrics {used - metric_names}"


@pytest.fixture(scope="module")
def metric_names() -> set[str]:
    """Every series name the workers and relays expose (careruntime.metrics with their namespaces)."""
    from allocation.service.ingest import IngestMetrics
    from careruntime.metrics import RuntimeMetrics
    from payments.service.ingest import IngestMetrics as PaymentsMetrics
    from prometheus_client import CollectorRegistry

    names: set[str] = set()
    for namespace in ("ledger", "ledger_relay", "ledger_entries_relay", "allocation", "allocation_relay", "payments", "payments_relay",
                      "reporting"):
        registry = CollectorRegistry()
        RuntimeMetrics(registry, namespace=namespace)
        if namespace == "allocation":
            IngestMetrics(registry)
        if namespace == "payments":
            PaymentsMetrics(registry)
        for family in registry.collect():
            names.add(family.name)
            names.update({f"{family.name}_total", f"{family.name}_bucket", f"{family.name}_count",
                          f"{family.name}_sum"})
    return names
