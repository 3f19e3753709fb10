"""The demo generator: deterministic for a seed, every message valid on the wire, bad input really bad."""
from collections import Counter

import orjson
import pytest
from careruntime.codec import DecodeError, decode

from caretools.badinput import bad_messages
from caretools.generator import generate


@pytest.fixture(scope="module")
def year():
    return generate(people=120, seed=11)


def test_same_seed_gives_byte_identical_messages(year):
    again = generate(people=120, seed=11)
    assert [(m.topic, m.key, m.value) for m in again] == [(m.topic, m.key, m.value) for m in year]
    assert [m.value for m in generate(people=120, seed=12)] != [m.value for m in year]


def test_every_generated_message_decodes_and_ids_are_unique(year):
    ids = [decode(m.value).envelope.id for m in year]
    assert len(ids) == len(set(ids))
    assert [m.at for m in year] == sorted(m.at for m in year)


def test_the_year_has_every_provider_type_and_the_main_flows(year):
    types = Counter(orjson.loads(m.value)["type"] for m in year)
    kinds = {orjson.loads(m.value)["data"]["provider_type"] for m in year if b"ProviderRegistered" in m.value}
    assert kinds == {"in_house", "private", "charity", "social_enterprise", "mutual", "other_council", "nhs"}
    for name in ("PersonalBudgetAgreed", "ServiceOrderCommissioned", "DirectPaymentScheduled", "PaymentSettled",
                 "InvoiceApproved", "FundingSplitAgreed", "ContributionAssessed"):
        assert any(name in t for t in types), name


def test_bad_input_is_undecodable_duplicated_or_conflicting(year):
    bad = bad_messages(year, "E10000099")
    undecodable = []
    for m in bad:
        try:
            decode(m.value)
        except DecodeError as exc:
            undecodable.append(exc.code)
    assert Counter(undecodable) == {"MALFORMED_JSON": 3, "INVALID_ENVELOPE": 1, "UNKNOWN_TYPE": 1, "INVALID_PAYLOAD": 4}
    valid_ids = {decode(m.value).envelope.id: m.value for m in year}
    resent = [m for m in bad if m.value in set(valid_ids.values())]
    assert len(resent) == 20


# --- the allocation side as commands (the demo) ---------------------------------------------------

from allocation.adapters.wire import command_hash  # noqa: E402
from allocation.service.process import ACCEPTED, Item, Loaded, process  # noqa: E402
from careschemas.registry import payload_model  # noqa: E402

from caretools.badinput import COMMAND_MISTAKES, bad_commands  # noqa: E402

COMMANDS_TOPIC = "allocation.commands.v1"


@pytest.fixture(scope="module")
def commands_year():
    return generate(people=300, seed=1, allocation="commands")


def decide_all(messages):
    """The allocation service's own batch decision (pure, no I/O) over the messages, in order."""
    items = []
    for offset, m in enumerate(messages):
        decoded = decode(m.value)
        items.append(Item(COMMANDS_TOPIC, 0, offset, decoded.envelope, decoded.payload, command_hash(decoded.envelope)))
    return process(items, Loaded())


def test_commands_form_is_deterministic_and_states_the_same_year_as_the_events_form(commands_year):
    again = generate(people=300, seed=1, allocation="commands")
    assert [(m.topic, m.key, m.value) for m in again] == [(m.topic, m.key, m.value) for m in commands_year]
    events = generate(people=300, seed=1, allocation="events")
    assert len(events) == len(commands_year)
    for cmd, ev in zip(commands_year, events, strict=True):
        c, e = orjson.loads(cmd.value), orjson.loads(ev.value)
        if cmd.topic == COMMANDS_TOPIC:
            assert ev.topic == "allocation.events.v1"
            assert payload_model(c["type"]).LEADS_TO == e["type"] and c["data"] == e["data"]
        else:
            assert cmd.value == ev.value


def test_the_commands_year_uses_all_fourteen_commands_and_every_one_is_accepted(commands_year):
    commands = [m for m in commands_year if m.topic == COMMANDS_TOPIC]
    types = {orjson.loads(m.value)["type"] for m in commands}
    assert len(types) == 14
    outcomes = decide_all(commands)
    refused = [(o.item.envelope.type, o.rejection) for o in outcomes if o.kind != ACCEPTED]
    assert not refused, refused[:5]


def test_bad_commands_are_undecodable_foreign_resent_conflicting_or_refused_with_their_code(commands_year):
    bad = bad_commands(commands_year, "E10000099")
    on_topic = [m for m in bad if m.topic == COMMANDS_TOPIC]
    undecodable, decodable = [], []
    for m in on_topic:
        try:
            decodable.append((m, decode(m.value)))
        except DecodeError as exc:
            undecodable.append(exc.code)
    assert Counter(undecodable) == {"MALFORMED_JSON": 3, "INVALID_ENVELOPE": 1, "UNKNOWN_TYPE": 1, "INVALID_PAYLOAD": 4}
    foreign = [d for _, d in decodable if not d.envelope.type.startswith("allocation.")]
    assert len(foreign) == 2
    commands = [m for m in commands_year if m.topic == COMMANDS_TOPIC]
    outcomes = decide_all(commands + [m for m, d in decodable if d.envelope.type.startswith("allocation.")])
    tail = [o for o in outcomes if o.item.offset >= len(commands)]  # the bad ones (provider commands go first)
    kinds = Counter(o.kind for o in tail)
    assert kinds["duplicate"] == 20 and kinds["conflict"] == 5
    refused = {o.item.envelope.id: o.rejection.code for o in tail if o.kind == "rejected"}
    assert refused == COMMAND_MISTAKES
