"""The wire side: the PaymentInstructed fast path writes exactly the bytes of the generic path, event ids
derive from the cause, content hashes ignore transport attributes; the council policy refuses bad settings."""
from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime

import pytest
from careruntime.codec import decode
from careschemas.payments_commands import CreatePaymentRun
from careschemas.payments_events import PaymentInstructed
from careschemas.registry import make_envelope

from payments.adapters.wire import Emitter, content_hash
from payments.domain.policy import PaymentsPolicy, PolicyError

CAUSE = make_envelope(CreatePaymentRun(run_id="RUN-1", created_by="alice", due_on=date(2026, 5, 4),
                                       effective_date=date(2026, 5, 4)),
                      id="c-run", source="urn:test", subject="RUN-1", council_id="C1", correlation_id="conv-1",
                      time=datetime(2026, 5, 4, 9, 30, 1, 250_000, tzinfo=UTC))


@pytest.mark.parametrize("fields", [
    {"kind": "direct_payment", "budget_id": "PB-1", "provider_id": None, "invoice_id": None},
    {"kind": "invoice", "budget_id": None, "provider_id": "PR-1", "invoice_id": "I-1"},
])
def test_the_fast_path_writes_the_bytes_of_the_generic_path(fields):
    common = {"payment_id": "PAY-1", "run_id": "RUN-1", "amount_pence": 12_345, "due_date": date(2026, 5, 4),
              "effective_date": date(2026, 5, 4), **fields}
    fast, slow = Emitter("payments.events.v1", CAUSE), Emitter("payments.events.v1", CAUSE)
    fast.instructed(**common)
    slow.event(PaymentInstructed(**common))
    assert fast.rows == slow.rows
    env = decode(fast.rows[0].value).envelope
    assert env.id == "c-run.p1" and env.causationid == "c-run" and env.time == CAUSE.time
    assert fast.rows[0].key == (fields["budget_id"] or fields["provider_id"]).encode()


def test_the_fast_path_refuses_what_the_model_would():
    with pytest.raises(ValueError):
        Emitter("t", CAUSE).instructed(payment_id="P", run_id="R", kind="invoice", budget_id="PB-1", provider_id=None,
                                       invoice_id=None, amount_pence=1, due_date=date(2026, 1, 1),
                                       effective_date=date(2026, 1, 1))
    with pytest.raises(ValueError):
        Emitter("t", CAUSE).instructed(payment_id="P", run_id="R", kind="direct_payment", budget_id="PB-1",
                                       provider_id=None, invoice_id=None, amount_pence=0, due_date=date(2026, 1, 1),
                                       effective_date=date(2026, 1, 1))


def test_event_ids_count_up_from_the_cause_and_hashes_ignore_transport():
    emit = Emitter("t", CAUSE)
    for n in range(3):
        emit.instructed(payment_id=f"P{n}", run_id="R", kind="direct_payment", budget_id="PB-1", provider_id=None,
                        invoice_id=None, amount_pence=1, due_date=date(2026, 1, 1), effective_date=date(2026, 1, 1))
    assert [decode(r.value).envelope.id for r in emit.rows] == ["c-run.p1", "c-run.p2", "c-run.p3"]
    resent = CAUSE.model_copy(update={"time": datetime(2026, 5, 5, tzinfo=UTC), "correlationid": "other"})
    assert content_hash(resent) == content_hash(CAUSE)
    changed = CAUSE.model_copy(update={"data": {**CAUSE.data, "due_on": "2026-05-05"}})
    assert content_hash(changed) != content_hash(CAUSE)


def test_policy_defaults_and_refusals():
    assert PaymentsPolicy().to_mapping() == {"dp_frequency_weeks": 4, "invoice_tolerance_bp": 0, "surplus_weeks": 8,
                                             "recovery_method": "offset", "timer_lead_days": 0}
    assert PaymentsPolicy.from_mapping({"dp_frequency_weeks": 2}).dp_frequency_weeks == 2
    for bad in ({"dp_frequency_weeks": 0}, {"dp_frequency_weeks": "2"}, {"surplus_weeks": True},
                {"recovery_method": "magic"}, {"unknown": 1}):
        with pytest.raises(PolicyError):
            PaymentsPolicy.from_mapping(bad)



@pytest.mark.parametrize(("command_id", "expected"), [("c-17", "c-17.p1"), ("x" * 127, None)])
def test_event_and_rejection_ids_carry_the_payments_marker(command_id, expected):
    """`.pN`, where allocation's are `.eN` (careruntime.event_ids): `c-17` sent to both services made two
    different `c-17.e1` events, and the ledger, which dedupes by id alone, refused the second."""
    from payments.adapters.wire import rejection

    cause = CAUSE.model_copy(update={"id": command_id})
    emit = Emitter("t", cause)
    emit.event(PaymentInstructed(payment_id="P", run_id="R", kind="direct_payment", budget_id="PB-1",
                                 provider_id=None, invoice_id=None, amount_pence=1, due_date=date(2026, 1, 1),
                                 effective_date=date(2026, 1, 1)))
    ids = {decode(emit.rows[0].value).envelope.id,
           decode(rejection("t", cause, date(2026, 1, 1), "RUN_NOT_FOUND", "x").value).envelope.id}
    assert ids == {expected or "h" + hashlib.sha256(command_id.encode()).hexdigest()[:40] + ":p1"}


def test_continuation_ids_of_two_runs_whose_long_first_ids_share_a_prefix_differ():
    """They were the first 100 characters and `.partN`: the second run's continuation was refused
    DUPLICATE_CONFLICT and that run stayed `creating`."""
    from payments.service.runs import next_part_id

    assert next_part_id("c-run", 2) == "c-run.part2"
    first, second = "r" * 123 + "-A", "r" * 123 + "-B"  # too long to keep whole with ".part2"
    ids = {next_part_id(first, 2), next_part_id(second, 2), next_part_id(first, 3)}
    assert len(ids) == 3 and all(len(i) <= 128 and i.endswith((":part2", ":part3")) for i in ids)
