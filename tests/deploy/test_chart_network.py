"""Who may talk to whom: each process's NetworkPolicy lets it reach exactly what it uses (DNS, and Kafka
and PostgreSQL where it uses them) and lets in only Prometheus, or for an HTTP process its clients; the
reporting Ingress reaches the API's Service.
"""
from __future__ import annotations

import pytest

from .conftest import USES, VALUE_SETS, by_name, chart_values, component, of_kind

SETS = list(VALUE_SETS)


@pytest.mark.parametrize("name", SETS)
def test_network_policies_let_each_process_reach_only_kafka_postgres_and_dns(rendered, name):
    values = chart_values(name)["networkPolicy"]
    cronjobs = {component(c) for c in of_kind(rendered[name], "CronJob")}
    policies = {component(p) for p in of_kind(rendered[name], "NetworkPolicy")}
    assert cronjobs <= policies, "every CronJob's pods have a NetworkPolicy"
    for policy in of_kind(rendered[name], "NetworkPolicy"):
        assert set(policy["spec"]["policyTypes"]) == {"Ingress", "Egress"}
        ports = {(p["port"], p.get("protocol", "TCP")) for rule in policy["spec"]["egress"] for p in rule["ports"]}
        kafka = {(p, "TCP") for p in values["kafka"]["ports"]}
        postgres = {(p, "TCP") for p in values["postgres"]["ports"]}
        dns = {(p, proto) for p in values["dns"]["ports"] for proto in ("UDP", "TCP")}
        comp = component(policy)
        if comp == "hooks" or comp in cronjobs:  # one-off commands: out only
            assert ports == kafka | postgres | dns and policy["spec"]["ingress"] == [], comp
            continue
        kind = comp.split("-")[1]
        uses = USES[kind]
        expected = dns | (kafka if "kafka" in uses else set()) | (postgres if "postgres" in uses else set())
        rules = policy["spec"]["ingress"]
        assert all([p["port"] for p in rule["ports"]] == [by_port_name(rendered[name], comp)] for rule in rules), comp
        if kind == "views":
            views_port = chart_values(name)["allocation"]["views"]["port"]
            assert ports == expected | {(views_port, "TCP")}
        else:
            assert ports == expected, comp
        if kind in ("views", "api"):  # an HTTP API: its clients, and Prometheus on the same port
            clients = values["viewsFrom" if kind == "views" else "apiFrom"]
            if clients and values["metricsFrom"]:
                peers = [peer for rule in rules for peer in rule["from"]]
                assert all(peer in peers for peer in values["metricsFrom"] + clients), comp
            elif not clients:
                assert any("from" not in rule for rule in rules), f"{comp}: open to any peer when its list is empty"
        else:  # the health port, to Prometheus only (when metricsFrom is set)
            assert all(rule.get("from", []) == values["metricsFrom"] for rule in rules), comp


def by_port_name(docs: list[dict], comp: str) -> str:
    """The name of the one port a process's container serves."""
    (dep,) = [d for d in of_kind(docs, "Deployment") if component(d) == comp]
    (port,) = dep["spec"]["template"]["spec"]["containers"][0]["ports"]
    return port["name"]


@pytest.mark.parametrize("name", SETS)
def test_the_reporting_ingress_reaches_the_api_service_port(rendered, name):
    docs = rendered[name]
    api = chart_values(name)["reporting"]["api"]
    ingresses = of_kind(docs, "Ingress")
    assert len(ingresses) == int(api["ingress"]["enabled"])
    for ingress in ingresses:
        (rule,) = ingress["spec"]["rules"]
        assert rule["host"] == api["ingress"]["host"]
        (path,) = rule["http"]["paths"]
        backend = path["backend"]["service"]
        service = by_name(docs, "Service", backend["name"])
        assert component(service) == "reporting-api"
        assert backend["port"]["name"] in {p["name"] for p in service["spec"]["ports"]}
        if api["ingress"]["tlsSecret"]:
            assert ingress["spec"]["tls"] == [{"hosts": [api["ingress"]["host"]], "secretName": api["ingress"]["tlsSecret"]}]
