"""The AsyncAPI document: valid against the official AsyncAPI 3.0.0 JSON Schema (from the npm package
@asyncapi/specs, installed by deploy/local/install-node-deps.sh), every reference resolves, the services
send and receive what the architecture says, and each message's example validates against its payload."""
from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any

import pytest
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from careschemas import export
from careschemas.asyncapi import DEAD_LETTER, channel_id
from careschemas.registry import MODELS
from careschemas.topics import TOPIC_TYPES, TOPICS, dlq

from schemas_testkit import REPO_ROOT

SPEC = REPO_ROOT / ".local/node/node_modules/@asyncapi/specs/schemas/3.0.0.json"
DOC: dict[str, Any] = json.loads((REPO_ROOT / export.ASYNCAPI_FILE).read_text(encoding="utf-8"))


@cache
def spec_validator() -> Draft7Validator:
    assert SPEC.is_file(), f"{SPEC} missing: run `make node-deps` (deploy/local/install-node-deps.sh)"
    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    assert spec["$schema"].startswith("http://json-schema.org/draft-07/schema")
    # The spec bundles every sub-schema under `definitions`, keyed by its $id; register each by that id.
    resources = [(uri, Resource.from_contents(sub, default_specification=DRAFT7))
                 for uri, sub in spec["definitions"].items()]
    registry = Registry().with_resources([(spec["$id"], Resource.from_contents(spec)), *resources])
    return Draft7Validator(spec, registry=registry)


def _errors(doc: dict[str, Any]) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in spec_validator().iter_errors(doc)]


def test_document_is_valid_asyncapi_3():
    assert DOC["asyncapi"] == "3.0.0"
    assert _errors(DOC) == []


@pytest.mark.parametrize("breakage", [
    lambda d: d.__setitem__("asyncapi", "2.6.0"),
    lambda d: d["info"].pop("title"),
    lambda d: next(iter(d["operations"].values())).__setitem__("action", "publish"),
    lambda d: d["channels"][channel_id(TOPICS[0])].__setitem__("topic", "allocation.commands.v1"),
    lambda d: d["components"]["messages"]["ledger.EntryPosted.v1"].__setitem__("correlationId", {"location": "id"}),
    lambda d: d["components"]["schemas"]["ledger.EntryPosted.v1"].__setitem__("type", "entry"),
    lambda d: d["channels"][channel_id(TOPICS[0])]["bindings"]["kafka"].__setitem__("partitions", 0),
], ids=["version", "info-title", "operation-action", "channel-extra-field", "correlation-location",
        "schema-type", "kafka-partitions"])
def test_the_spec_check_really_fails_on_a_broken_copy(breakage):
    broken = copy.deepcopy(DOC)
    breakage(broken)
    assert _errors(broken)


def _pointer(doc: Any, ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node = doc
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for k, v in node.items() if k != "$ref" for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def test_every_reference_resolves_inside_the_document():
    refs = set(_refs(DOC))
    assert refs and all(r.startswith("#/") for r in refs)
    for ref in sorted(refs):
        _pointer(DOC, ref)


def test_channels_are_the_topics_and_their_dead_letters():
    addresses = {c["address"] for c in DOC["channels"].values()}
    assert addresses == set(TOPICS) | {dlq(t) for t in TOPICS}
    for topic in TOPICS:
        assert set(DOC["channels"][channel_id(topic)]["messages"]) == set(TOPIC_TYPES[topic])
    assert set(DOC["components"]["messages"]) == set(MODELS) | {DEAD_LETTER}


def _ops(service: str, action: str) -> set[str]:
    return {_pointer(DOC, op["channel"]["$ref"])["address"] for op in DOC["operations"].values()
            if op["action"] == action and op["tags"] == [{"name": service}]}


@pytest.mark.parametrize("service,receives,sends", [
    ("allocation", {"allocation.commands.v1"}, {"allocation.events.v1"}),
    ("payments", {"payments.commands.v1", "allocation.events.v1"}, {"payments.events.v1"}),
    ("ledger", {"allocation.events.v1", "payments.events.v1"}, {"ledger.entries.v1"}),
    ("reporting", {"ledger.entries.v1", "allocation.events.v1", "payments.events.v1"}, set()),
])
def test_operations_per_service(service, receives, sends):
    assert _ops(service, "receive") == receives
    assert _ops(service, "send") == sends | {dlq(t) for t in receives}


def test_operation_messages_belong_to_their_channel():
    for op in DOC["operations"].values():
        channel = op["channel"]["$ref"]
        for message in op["messages"]:
            assert message["$ref"].startswith(channel + "/messages/")


def test_messages_document_key_and_content_type():
    for name in MODELS:
        message = DOC["components"]["messages"][name]
        assert message["contentType"] == "application/cloudevents+json; charset=UTF-8"
        assert "content-type" in _pointer(DOC, message["headers"]["$ref"])["properties"]
        assert message["bindings"]["kafka"]["key"]["description"].startswith("Message key: `")


def test_message_examples_validate_against_their_payload_schema():
    uri = "urn:careschemas:asyncapi"
    registry = Registry().with_resource(uri, Resource.from_contents(DOC, default_specification=DRAFT7))
    for name in MODELS:
        message = DOC["components"]["messages"][name]
        validator = Draft7Validator({"$ref": f"{uri}#/components/messages/{name}/payload"}, registry=registry)
        validator.validate(message["examples"][0]["payload"])
        wrong = copy.deepcopy(message["examples"][0]["payload"])
        wrong["type"] = "allocation.Other.v1"
        assert list(validator.iter_errors(wrong)), name
