"""Given events / when command / then events: providers, bank details, and council policy as data."""
from __future__ import annotations

import pydantic
import pytest
from allocation.domain import reasons
from allocation.domain.policy import CouncilPolicy, PolicyError
from allocation_testkit import (
    DAY,
    after,
    command,
    event,
    given,
    registered,
    then,
    then_rejected,
    when,
)


def bank(account_ref: str = "vault-tok-1", verified_by: str = "j.okafor@council.example"):
    return command("ChangeProviderBankDetails", provider_id="PR-1", account_ref=account_ref, verified_by=verified_by)


def bank_changed(account_ref: str = "vault-tok-1", verified_by: str = "j.okafor@council.example"):
    return event("ProviderBankDetailsChanged", provider_id="PR-1", account_ref=account_ref, verified_by=verified_by)


@pytest.mark.parametrize("provider_type", ["in_house", "private", "charity", "social_enterprise", "mutual",
                                           "other_council", "nhs"])
def test_a_provider_of_every_type_is_registered(provider_type):
    cmd = command("RegisterProvider", provider_id="PR-1", name="Provider PR-1", provider_type=provider_type)
    then(when(None, cmd), registered(provider_type=provider_type))


def test_a_provider_is_registered_once():
    cmd = command("RegisterProvider", provider_id="PR-1", name="Other name", provider_type="charity")
    then_rejected(when(given(registered()), cmd), reasons.PROVIDER_ALREADY_REGISTERED)


def test_a_bank_detail_change_is_recorded_with_who_verified_it():
    then(when(given(registered()), bank()), bank_changed())


def test_bank_details_of_an_unregistered_provider_are_refused():
    then_rejected(when(None, bank()), reasons.UNKNOWN_PROVIDER)


def test_a_change_to_the_same_account_is_refused():
    then_rejected(when(given(registered(), bank_changed()), bank()), reasons.BANK_DETAILS_UNCHANGED)
    then(when(given(registered(), bank_changed()), bank("vault-tok-2", "a.n.other")),
         bank_changed("vault-tok-2", "a.n.other"))


@pytest.mark.parametrize("fields", [{"verified_by": ""}, {"verified_by": "   "}, {"account_ref": "12-34-56"},
                                    {"account_ref": "GB29NWBK60161331926819"}])
def test_unverified_changes_and_raw_bank_details_never_become_commands(fields):
    """The wire contract refuses them, so they land on the dead-letter topic instead (INVALID_PAYLOAD)."""
    with pytest.raises(pydantic.ValidationError):
        command("ChangeProviderBankDetails", **{"provider_id": "PR-1", "account_ref": "vault-tok-1",
                                                "verified_by": "x", **fields})


# -- policy as data --------------------------------------------------------------------------------

def test_the_default_policy_follows_the_domain_defaults():
    policy = CouncilPolicy()
    assert policy.payment_frequency_weeks == 4
    assert policy.contribution_mode == "netted"
    assert policy.allowed_contribution_modes == {"netted", "gross"}
    assert policy.variance_tolerance_bp == 0


def test_a_policy_round_trips_through_its_stored_form():
    policy = CouncilPolicy(payment_frequency_weeks=2, allowed_contribution_modes=frozenset({"gross"}),
                           contribution_mode="gross", variance_tolerance_bp=250)
    assert CouncilPolicy.from_mapping(policy.to_mapping()) == policy
    assert CouncilPolicy.from_mapping({}) == CouncilPolicy()


@pytest.mark.parametrize("settings", [
    {"payment_frequency_weeks": 0}, {"payment_frequency_weeks": "4"}, {"payment_frequency_weeks": True},
    {"contribution_mode": "sometimes"}, {"allowed_contribution_modes": []},
    {"allowed_contribution_modes": ["gross"]},  # the default mode netted would not be allowed
    {"allowed_contribution_modes": "netted"}, {"variance_tolerance_bp": -1}, {"variance_tolerance_bp": 10_001},
    {"surplus_weeks": 8},
])
def test_bad_stored_settings_are_refused_not_ignored(settings):
    with pytest.raises(PolicyError):
        CouncilPolicy.from_mapping(settings)


def test_the_provider_keeps_the_new_account_and_who_verified_it():
    state = given(registered())
    changed = after(state, when(state, bank("vault-tok-7", "a.verifier@council.example")))
    assert (changed.account_ref, changed.verified_by, changed.bank_changed_on) == (
        "vault-tok-7", "a.verifier@council.example", DAY)
