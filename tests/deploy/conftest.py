"""Fixtures for the checks of the Helm chart and the Dockerfile: no Kafka, no PostgreSQL, no cluster.

Owns running the pinned helm (built by deploy/local/install-helm.sh into .tools/bin, which `make deps`
does before the tests) with its own scratch HOME, rendering the chart for every value set in
deploy/helm/values plus the chart's defaults, and the chart's values merged as helm merges them.

- `render(values_file=None, *set_args, check=True)` -> list of manifests (dicts); with check=False the
  CompletedProcess, to look at a refusal.
- `rendered`  {value set name: manifests}, rendered once per session.
- `chart_values(name)` -> the chart's values.yaml overlaid with that value set.
"""
from __future__ import annotations

import copy
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
CHART = REPO_ROOT / "deploy" / "helm" / "careledger"
VALUE_SETS_DIR = REPO_ROOT / "deploy" / "helm" / "values"
HELM = REPO_ROOT / ".tools" / "bin" / "helm"
KUBE_VERSION = "1.33.0"
NAMESPACE = "careledger"
RELEASE = "care"

# "default" is the chart's own values.yaml; every file in deploy/helm/values is a realistic value set.
VALUE_SETS: dict[str, Path | None] = {"default": None} | {
    p.stem: p for p in sorted(VALUE_SETS_DIR.glob("*.yaml"))
}


@pytest.fixture(scope="session")
def helm(tmp_path_factory) -> Callable[..., subprocess.CompletedProcess[str]]:
    if not HELM.exists():
        pytest.fail(f"{HELM} is missing: run deploy/local/install-helm.sh (part of `make deps`)", pytrace=False)
    home = tmp_path_factory.mktemp("helm-home")
    env = {**os.environ, "HELM_CACHE_HOME": str(home / "cache"), "HELM_CONFIG_HOME": str(home / "config"),
           "HELM_DATA_HOME": str(home / "data")}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(HELM), *args], check=False, env=env, capture_output=True, text=True, timeout=120,
                              stdin=subprocess.DEVNULL)

    return run


@pytest.fixture(scope="session")
def render(helm):
    def render(values_file: Path | None = None, *set_args: str, check: bool = True):
        args = ["template", RELEASE, str(CHART), "--namespace", NAMESPACE, "--kube-version", KUBE_VERSION]
        if values_file is not None:
            args += ["-f", str(values_file)]
        for s in set_args:
            args += ["--set", s]
        result = helm(*args)
        if not check:
            return result
        assert result.returncode == 0, f"helm template failed:\n{result.stderr}"
        return [doc for doc in yaml.safe_load_all(result.stdout) if doc]

    return render


@pytest.fixture(scope="session")
def rendered(render) -> dict[str, list[dict]]:
    return {name: render(path) for name, path in VALUE_SETS.items()}


def _merge(base: dict, overlay: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def chart_values(name: str) -> dict:
    base = yaml.safe_load((CHART / "values.yaml").read_text())
    path = VALUE_SETS[name]
    return base if path is None else _merge(base, yaml.safe_load(path.read_text()) or {})


# The chart's services, processes (components) and those with an HPA; add a service's when it joins the chart.
SERVICES = ("ledger", "allocation", "payments", "reporting")
PROCESSES = {"ledger-worker", "ledger-relay", "allocation-worker", "allocation-relay", "allocation-views",
             "payments-worker", "payments-relay", "payments-timer", "reporting-worker", "reporting-api"}
# The ledger worker is not among them: one replica only (the chart refuses more; test_chart_values).
AUTOSCALED = {"allocation-worker", "allocation-views", "payments-worker", "reporting-worker", "reporting-api"}
# What each process kind connects to (careledger.processKinds): egress, credentials and /readyz checks.
USES = {"worker": {"postgres", "kafka"}, "relay": {"postgres", "kafka"}, "timer": {"postgres"},
        "views": {"kafka"}, "api": {"postgres"}}


def component(doc: dict) -> str:
    return doc["metadata"]["labels"]["app.kubernetes.io/component"]


def of_kind(docs: list[dict], kind: str) -> list[dict]:
    return [d for d in docs if d["kind"] == kind]


def by_name(docs: list[dict], kind: str, name: str) -> dict:
    found = [d for d in of_kind(docs, kind) if d["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
    return found[0]


def pod_template(doc: dict) -> dict:
    """The pod template of a Deployment, Job or CronJob."""
    return doc["spec"]["jobTemplate"]["spec"]["template"] if doc["kind"] == "CronJob" else doc["spec"]["template"]


def pod_specs(docs: list[dict]) -> list[tuple[str, dict]]:
    """(kind/name, pod spec) of every Deployment, Job and CronJob."""
    return [(f"{d['kind']}/{d['metadata']['name']}", pod_template(d)["spec"])
            for d in docs if d["kind"] in ("Deployment", "Job", "CronJob")]


def container_env(docs: list[dict], container: dict) -> dict[str, dict]:
    """Every variable a container gets: name -> {"value": ...} or {"secretKeyRef": ...} or {"fieldRef": ...}."""
    env: dict[str, dict] = {}
    for source in container.get("envFrom", []):
        cm = by_name(docs, "ConfigMap", source["configMapRef"]["name"])
        env.update({k: {"value": v, "configMap": cm["metadata"]["name"]} for k, v in cm["data"].items()})
    for var in container.get("env", []):
        if "value" in var:
            env[var["name"]] = {"value": var["value"]}
        else:
            env[var["name"]] = dict(var["valueFrom"])
    return env
