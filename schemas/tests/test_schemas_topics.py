"""Topics, routing, message keys, dead letters, and the wire codec's DLQ reasons."""
from __future__ import annotations

import json

import pytest

from careschemas import registry, topics
from careschemas.registry import MODELS

from schemas_testkit import REPO_ROOT, valid


def test_topic_names():
    assert topics.ALLOCATION_COMMANDS == "allocation.commands.v1"
    assert topics.ALLOCATION_EVENTS == "allocation.events.v1"
    assert topics.PAYMENTS_COMMANDS == "payments.commands.v1"
    assert topics.PAYMENTS_EVENTS == "payments.events.v1"
    assert topics.LEDGER_ENTRIES == "ledger.entries.v1"
    assert topics.dlq("payments.events.v1") == "payments.events.v1.dlq"


def test_every_type_travels_on_exactly_one_topic():
    placed = [t for ts in topics.TOPIC_TYPES.values() for t in ts]
    assert sorted(placed) == sorted(MODELS)
    assert topics.topic_for("invoices.InvoiceReceived.v1") == topics.PAYMENTS_EVENTS
    assert topics.topic_for("invoices.ReceiveInvoice.v1") == topics.PAYMENTS_COMMANDS
    assert topics.topic_for("allocation.AgreePersonalBudget.v1") == topics.ALLOCATION_COMMANDS
    assert topics.topic_for("ledger.PostingRejected.v1") == topics.LEDGER_ENTRIES
    for topic, names in topics.TOPIC_TYPES.items():
        kinds = {registry.kind(n) for n in names}
        assert kinds == ({"command"} if topic.split(".")[1] == "commands" else {"event"})


@pytest.mark.parametrize("name,changes,key", [
    ("allocation.PersonalBudgetAgreed.v1", {}, "PB-0001"),
    ("allocation.ServiceOrderCommissioned.v1", {}, "PB-0001"),
    ("allocation.ProviderRegistered.v1", {}, "PRV-0042"),
    ("allocation.ProviderBankDetailsChanged.v1", {}, "PRV-0042"),
    ("invoices.InvoiceReceived.v1", {}, "PRV-0042"),
    ("invoices.OverpaymentIdentified.v1", {}, "PB-0001"),
    ("payments.PaymentRunCreated.v1", {}, "RUN-2025-04-07"),
    ("payments.PaymentInstructed.v1", {}, "PB-0001"),
    ("payments.PaymentInstructed.v1", {"kind": "invoice", "budget_id": None, "provider_id": "PRV-9"}, "PRV-9"),
    ("payments.PaymentSettled.v1", {}, "PB-0001"),
    ("payments.PaymentSettled.v1", {"budget_id": None, "provider_id": None}, "PAY-0001"),
    ("payments.RecordSettlement.v1", {}, "PAY-0001"),
    ("allocation.CommandRejected.v1", {}, "0b6e0e1c-6a52-4f0b-8d4e-2d1f5d1c9a10"),
    ("ledger.EntryPosted.v1", {}, "ledger-3"),
    ("ledger.PostingRejected.v1", {}, "ledger-3"),
])
def test_message_keys(name, changes, key):
    assert topics.message_key(valid(name, **changes)) == key


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_type_has_a_key(name):
    assert topics.message_key(valid(name))


def test_partitions_agree_with_the_deployed_topic_declarations():
    path = REPO_ROOT / "deploy/topics.yaml"
    # The file stays in the JSON-compatible subset of YAML with whole-line '#' comments (see its header).
    lines = path.read_text(encoding="utf-8").splitlines()
    text = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
    declared = json.loads(text)
    default = declared.get("defaults", {}).get("partitions", 1)
    partitions = {t["name"]: t.get("partitions", default) for t in declared["topics"]}
    for topic in topics.TOPICS:
        assert partitions.get(topic) == topics.DEFAULT_PARTITIONS, topic
        if topics.dlq(topic) in partitions:
            assert partitions[topics.dlq(topic)] == topics.DLQ_PARTITIONS, topics.dlq(topic)
