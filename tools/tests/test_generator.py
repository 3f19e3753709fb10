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
