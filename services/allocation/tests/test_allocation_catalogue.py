"""The service against its contracts and its docs: every allocation command has exactly one decision
function, every accepted event is the type the command LEADS_TO (or a closing consequence), every
reason code is UPPER_SNAKE and documented, and the budget view folds events idempotently."""
from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from allocation.domain import reasons
from allocation.domain.checks import accepted
from allocation.domain.decide import HANDLERS
from allocation.domain.model import Rejection
from allocation.domain.policy import CouncilPolicy
from allocation.entrypoints.views import SEEN, fold
from allocation.service.summary import budget_summary
from allocation_testkit import (
    COUNCIL,
    END,
    START,
    agreed,
    commissioned,
    event,
    given,
    indicative,
    when,
)
from careschemas import allocation_commands
from careschemas.common import ContributionMode
from careschemas.examples import example_payload
from careschemas.registry import COMMAND_TYPES, family, payload_classes, payload_model

DOCS = Path(__file__).resolve().parents[3] / "docs" / "allocation.md"


def test_every_allocation_command_has_one_decision_function():
    allocation = {t for t in COMMAND_TYPES if family(t) == "allocation"}
    assert {cls.TYPE for cls in HANDLERS} == allocation
    assert set(HANDLERS) == set(payload_classes(allocation_commands))


@pytest.mark.parametrize("cls", sorted(HANDLERS, key=lambda c: c.TYPE), ids=lambda c: c.__name__)
def test_a_command_is_answered_by_its_own_event_or_a_rejection(cls):
    """Each example command, against a budget that has what it needs, leads to its LEADS_TO event."""
    cmd = payload_model(cls.TYPE).model_validate(example_payload(cls.TYPE))
    state = _state_for(cmd)
    decision = when(state, cmd, providers=("PRV-0042",), policy=CouncilPolicy(variance_tolerance_bp=10_000))
    assert not isinstance(decision, Rejection), decision
    assert cls.LEADS_TO in {type(e).TYPE for e in decision}
    assert {type(e).TYPE for e in decision} <= {cls.LEADS_TO, "allocation.ServiceOrderEnded.v1"}


@pytest.mark.parametrize("cls", sorted(HANDLERS, key=lambda c: c.TYPE), ids=lambda c: c.__name__)
def test_a_command_carries_exactly_its_events_fields_so_its_event_needs_no_second_validation(cls):
    """`accepted` builds the event without validating it again; that is sound only while each command
    has its event's fields with the same types and defaults, and the event validates to the same value."""
    event_model = payload_model(cls.LEADS_TO)
    assert list(cls.model_fields) == list(event_model.model_fields)
    for name, field in cls.model_fields.items():
        other = event_model.model_fields[name]
        assert (field.annotation, field.default, field.metadata) == (other.annotation, other.default, other.metadata), name
    cmd = payload_model(cls.TYPE).model_validate(example_payload(cls.TYPE))
    built = accepted(cmd)
    assert built == event_model.model_validate(cmd.model_dump())
    assert built.model_dump(mode="json") == event_model.model_validate(cmd.model_dump()).model_dump(mode="json")


def _state_for(cmd):
    name = type(cmd).__name__
    if name in ("RegisterProvider", "CalculateIndicativeBudget", "AgreePersonalBudget"):
        return None
    if name == "ChangeProviderBankDetails":
        return given(event("ProviderRegistered", provider_id="PRV-0042", name="Meadowbank", provider_type="private"))
    base = [agreed("PB-0001", 5_000_000, start_date=date(2025, 4, 1), end_date=date(2026, 3, 31), person_ref="P-83921")]
    if name in ("VaryServiceOrder", "EndServiceOrder", "RecordDeath"):
        base.append(commissioned("SO-0001", budget_id="PB-0001", provider_id="PRV-0042", start=date(2025, 4, 1),
                                 end=date(2026, 3, 31)))
    return given(*base)


def test_reason_codes_are_upper_snake_and_each_has_a_meaning():
    declared = {v for k, v in vars(reasons).items() if k.isupper() and isinstance(v, str)}
    assert declared == set(reasons.MEANINGS)
    assert all(re.fullmatch(r"[A-Z][A-Z0-9]*(_[A-Z0-9]+)*", code) for code in declared)


def test_the_docs_explain_every_reason_code_with_an_example():
    text = DOCS.read_text(encoding="utf-8")
    missing = [code for code in reasons.ALL if f"`{code}`" not in text]
    assert not missing, f"docs/allocation.md does not explain: {missing}"


def test_the_docs_list_every_command():
    text = DOCS.read_text(encoding="utf-8")
    missing = [cls.__name__ for cls in HANDLERS if f"`{cls.__name__}`" not in text]
    assert not missing, f"docs/allocation.md does not list: {missing}"


# -- the budget view ------------------------------------------------------------------------------

def test_the_view_folds_events_and_counts_a_repeat_once():
    entry = fold(None, COUNCIL, "c1.e1", indicative())
    entry = fold(entry, COUNCIL, "c2.e1", agreed(indicative_pence=50_000_00, variance_reason="r"))
    assert fold(entry, COUNCIL, "c2.e1", agreed(indicative_pence=50_000_00, variance_reason="r")) is None
    assert entry[COUNCIL]["state"]["version"] == 2 and entry[COUNCIL]["seen"] == ["c1.e1", "c2.e1"]


def test_the_view_keeps_councils_apart_and_remembers_a_bounded_number_of_ids():
    entry = fold(None, COUNCIL, "a.e1", agreed())
    entry = fold(entry, "C999", "b.e1", agreed(amount=1))
    assert entry[COUNCIL]["state"]["amount_pence"] == 52_000_00 and entry["C999"]["state"]["amount_pence"] == 1
    for n in range(SEEN + 10):
        entry = fold(entry, COUNCIL, f"r{n}.e1", event("PersonalBudgetRevised", budget_id="PB-1", amount_pence=n + 1,
                                                       reason="r"))
    assert len(entry[COUNCIL]["seen"]) == SEEN


def test_the_summary_shows_shares_routes_commitments_and_headroom():
    budget = given(agreed(amount=100_000), event("FundingSplitAgreed", budget_id="PB-1", icb_pence=40_000,
                                                 pooled_pence=0),
                   event("ContributionAssessed", budget_id="PB-1", weekly_pence=100, mode=ContributionMode.gross),
                   event("DeliveryRouteAllocated", budget_id="PB-1", route="commissioned", amount_pence=80_000),
                   commissioned(start=START, end=date(2026, 4, 28)))
    summary = budget_summary(budget)
    assert summary["funding"]["council_pence"] == 100_000 - 40_000 - 5_200
    assert (summary["committed_pence"], summary["headroom_pence"]) == (80_000, 20_000)
    assert summary["routes"] == {"commissioned": {"amount_pence": 80_000, "holder_ref": None}}
    assert summary["end_date"] == END.isoformat() and summary["status"] == "agreed"
