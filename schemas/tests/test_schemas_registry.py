"""The registry: every family and type from DOMAIN.md present, one model per stable type name, commands
mirror their events, examples valid, and envelopes round-trip."""
from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from pydantic import BaseModel

from careschemas import registry
from careschemas.envelope import TYPE_PATTERN, Envelope
from careschemas.examples import example_envelope, example_payload
from careschemas.registry import (
    COMMAND_TYPES, EVENT_TYPES, MODELS, make_envelope, parse_payload, payload_model, type_name,
)

# The event families of DOMAIN.md ("Event families"), spelled out.
DOMAIN_EVENTS = {
    "allocation": ["IndicativeBudgetCalculated", "PersonalBudgetAgreed", "PersonalBudgetRevised", "PersonalBudgetEnded",
                   "FundingSplitAgreed", "ContributionAssessed", "DeliveryRouteAllocated", "ProviderRegistered",
                   "ServiceOrderCommissioned", "ServiceOrderVaried", "ServiceOrderEnded", "PersonDied"],
    "payments": ["DirectPaymentScheduled", "PaymentInstructed", "PaymentRunCreated", "PaymentRunApproved",
                 "PaymentFileGenerated", "PaymentSettled", "PaymentReturned", "SurplusRecoveryRaised",
                 "SurplusRecovered", "OneOffPaymentMade"],
    "invoices": ["InvoiceReceived", "InvoiceMatched", "InvoiceHeld", "InvoiceApproved", "InvoiceRejected",
                 "CreditNoteReceived", "OverpaymentIdentified"],
    "ledger": ["EntryPosted", "PostingRejected"],
}
BRIEF_COMMANDS = {
    "allocation": ["CalculateIndicativeBudget", "AgreePersonalBudget", "RevisePersonalBudget", "EndPersonalBudget",
                   "AgreeFundingSplit", "AssessContribution", "AllocateDeliveryRoute", "RegisterProvider",
                   "ChangeProviderBankDetails", "CommissionServiceOrder", "VaryServiceOrder", "EndServiceOrder",
                   "RecordDeath", "AuthoriseOverspend"],
    "payments": ["ScheduleDirectPayment", "SuspendDirectPayment", "ResumeDirectPayment", "MakeOneOffPayment",
                 "CreatePaymentRun", "ApprovePaymentRun", "GeneratePaymentFile", "RecordSettlement", "RecordReturn",
                 "RaiseSurplusRecovery"],
    "invoices": ["ReceiveInvoice", "ApproveInvoice", "RejectInvoice", "DisputeInvoice", "ReceiveCreditNote",
                 "RecordOverpayment"],
}
# Commands whose event is shaped differently on purpose: DisputeInvoice is held as reason_code DISPUTED.
RESHAPED = {"invoices.DisputeInvoice.v1": {"reason"}}
# Fields of a command that its event does not repeat (the service uses them, then computes the event).
COMMAND_ONLY: dict[str, set[str]] = {
    "payments.ReportDirectPaymentBalance.v1": {"balance_pence", "liabilities_pence"},
}


@pytest.mark.parametrize("fam", sorted(DOMAIN_EVENTS))
def test_every_domain_event_is_registered(fam):
    missing = [n for n in DOMAIN_EVENTS[fam] if f"{fam}.{n}.v1" not in EVENT_TYPES]
    assert not missing


@pytest.mark.parametrize("fam", sorted(BRIEF_COMMANDS))
def test_every_command_is_registered(fam):
    missing = [n for n in BRIEF_COMMANDS[fam] if f"{fam}.{n}.v1" not in COMMAND_TYPES]
    assert not missing


def test_families_are_exactly_the_domain_families():
    assert {registry.family(t) for t in MODELS} == set(registry.FAMILIES) == set(DOMAIN_EVENTS)


def test_type_names_are_stable_and_unique():
    collected = [cls.TYPE for module in registry.MODULES for cls in registry.payload_classes(module)]
    assert len(collected) == len(set(collected)) == len(MODELS)
    assert EVENT_TYPES | COMMAND_TYPES == set(MODELS) and not EVENT_TYPES & COMMAND_TYPES
    for name, model in MODELS.items():
        assert re.fullmatch(TYPE_PATTERN, name)
        fam, cls_name, version = name.split(".")
        assert (cls_name, version) == (model.__name__, "v1")
        assert model.model_config.get("extra") == "forbid" and model.model_config.get("frozen") is True
        assert model.__doc__ and model.__doc__.strip()


def test_a_duplicate_type_name_stops_the_registry():
    import types

    from careschemas.allocation_events import PersonDied

    twin = types.ModuleType("twin")
    clone = type("PersonDied", (PersonDied,), {"__module__": "twin", "TYPE": PersonDied.TYPE})
    twin.PersonDied = clone
    with pytest.raises(RuntimeError, match="defined twice"):
        registry._collect((registry.allocation_events, twin))


def test_lookup_helpers():
    from careschemas.allocation_events import PersonalBudgetAgreed

    assert payload_model("allocation.PersonalBudgetAgreed.v1") is PersonalBudgetAgreed
    assert payload_model("allocation.Nope.v1") is None
    assert type_name(PersonalBudgetAgreed) == PersonalBudgetAgreed.TYPE == "allocation.PersonalBudgetAgreed.v1"
    with pytest.raises(LookupError):
        type_name(BaseModel)


@pytest.mark.parametrize("name", sorted(EVENT_TYPES))
def test_every_event_has_an_effective_date(name):
    field = MODELS[name].model_fields["effective_date"]
    assert field.is_required() and field.annotation.__name__ == "date"


@pytest.mark.parametrize("name", sorted(MODELS))
def test_money_fields_are_integer_pence(name):
    for field_name, field in MODELS[name].model_fields.items():
        if field_name.endswith("_pence"):
            schema = MODELS[name].model_json_schema()["properties"][field_name]
            types = {s.get("type") for s in schema.get("anyOf", [schema])} - {"null"}
            assert types == {"integer"}, field_name
        assert "amount" not in field_name or field_name.endswith("_pence"), field_name


@pytest.mark.parametrize("name", sorted(COMMAND_TYPES))
def test_commands_carry_the_fields_of_their_event(name):
    command, event = MODELS[name], MODELS[registry.leads_to(name)]
    assert registry.kind(event.TYPE) == "event" and registry.family(event.TYPE) == registry.family(name)
    shared = set(command.model_fields) - RESHAPED.get(name, set()) - COMMAND_ONLY.get(name, set())
    assert shared <= set(event.model_fields), shared - set(event.model_fields)
    c_props, e_props = command.model_json_schema()["properties"], event.model_json_schema()["properties"]

    def bare(schema):  # the value's own schema: optional-ness and documentation aside
        options = [o for o in schema.get("anyOf", [schema]) if o.get("type") != "null"]
        return [{k: v for k, v in o.items() if k not in ("description", "title", "default")} for o in options]

    for field in shared:
        assert bare(c_props[field]) == bare(e_props[field]), field


@pytest.mark.parametrize("name", sorted(MODELS))
def test_examples_are_valid_and_round_trip_through_an_envelope(name):
    payload = MODELS[name].model_validate(example_payload(name))
    envelope = Envelope.model_validate(example_envelope(name))
    assert envelope.type == name
    assert parse_payload(envelope) == payload


def test_make_envelope():
    from careschemas.allocation_events import PersonDied

    died = PersonDied.model_validate(example_payload(PersonDied.TYPE))
    env = make_envelope(died, id="evt-1", source="urn:careledger:allocation", subject="PB-0001", council_id="E08000025",
                        correlation_id="corr-1", causation_id="cmd-1")
    assert env.type == "allocation.PersonDied.v1" and env.data["date_of_death"] == "2025-09-14"
    assert env.time.tzinfo is not None and env.causationid == "cmd-1" and env.councilid == "E08000025"
    fixed = make_envelope(died, id="evt-1", source="s", subject="PB-0001", council_id="C1", correlation_id="c",
                          time=datetime(2025, 1, 1, tzinfo=UTC))
    assert fixed.time == datetime(2025, 1, 1, tzinfo=UTC) and fixed.causationid is None


def test_parse_payload_refuses_unknown_types_and_bad_data():
    env = Envelope.model_validate(example_envelope("allocation.PersonDied.v1"))
    with pytest.raises(registry.UnknownType):
        parse_payload(env.model_copy(update={"type": "allocation.PersonVanished.v1"}))
    with pytest.raises(ValueError):
        parse_payload(env.model_copy(update={"data": {**env.data, "budget_id": 7}}))
