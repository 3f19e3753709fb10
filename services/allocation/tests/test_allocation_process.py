"""The batch decision loop and the wire outcome, with no I/O: idempotency (resends, conflicting resends),
deterministic event ids and envelopes, ordering inside a batch, councils kept apart, state round trips."""
from __future__ import annotations

from datetime import UTC, date, datetime

import orjson
from allocation.adapters import state_codec, wire
from allocation.domain import reasons
from allocation.service.process import (
    ACCEPTED,
    CONFLICT,
    DUPLICATE,
    REJECTED,
    Item,
    Loaded,
    Seen,
    process,
)
from allocation_testkit import (
    END,
    START,
    agreed,
    command,
    commission,
    commissioned,
    given,
)
from careruntime.codec import decode
from careschemas.registry import make_envelope
from careschemas.topics import message_key

TOPIC = "allocation.commands.v1"
T0 = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)


def item(cmd, command_id: str, *, council: str = "C001", partition: int = 0, offset: int = 0, time=T0,
         source: str = "urn:case-system") -> Item:
    env = make_envelope(cmd, id=command_id, source=source, subject=message_key(cmd), council_id=council,
                        correlation_id=f"corr-{command_id}", time=time)
    return Item(TOPIC, partition, offset, env, cmd, wire.command_hash(env))


def agree(amount: int = 52_000_00, budget_id: str = "PB-1"):
    return command("AgreePersonalBudget", budget_id=budget_id, person_ref="P-1", amount_pence=amount,
                   start_date=START, end_date=END)


def register(provider_id: str = "PR-1"):
    return command("RegisterProvider", provider_id=provider_id, name="Meadowbank", provider_type="private")


def test_an_accepted_command_emits_its_events_with_ids_derived_from_the_command_id():
    [out] = process([item(agree(), "cmd-1")], loaded := Loaded())
    assert out.kind == ACCEPTED
    assert [(eid, type(e).__name__) for eid, e in out.events] == [("cmd-1.e1", "PersonalBudgetAgreed")]
    assert loaded.dirty_budgets == {("C001", "PB-1")}
    assert loaded.processed["cmd-1"].outcome == ACCEPTED


def test_a_resend_with_the_same_content_is_a_duplicate_and_emits_nothing():
    first, again, rebuilt = process([
        item(agree(), "cmd-1", offset=0),
        item(agree(), "cmd-1", offset=1),
        item(agree(), "cmd-1", offset=2, time=datetime(2026, 4, 2, tzinfo=UTC), source="urn:retry"),
    ], Loaded())
    assert first.kind == ACCEPTED
    assert (again.kind, again.events) == (DUPLICATE, ())
    assert (rebuilt.kind, rebuilt.events) == (DUPLICATE, ())  # a rebuilt envelope is the same command


def test_a_command_processed_in_an_earlier_batch_is_a_duplicate():
    loaded = Loaded(processed={"cmd-1": Seen(item(agree(), "cmd-1").content_hash, REJECTED)})
    [out] = process([item(agree(), "cmd-1")], loaded)
    assert (out.kind, out.events) == (DUPLICATE, ())


def test_the_same_id_with_different_content_is_rejected_as_a_conflict_once():
    first, conflicting, again = process([
        item(agree(), "cmd-1", offset=0),
        item(agree(60_000_00), "cmd-1", offset=1),
        item(agree(60_000_00), "cmd-1", offset=2),
    ], loaded := Loaded())
    assert first.kind == ACCEPTED
    assert conflicting.kind == CONFLICT and conflicting.rejection.code == reasons.DUPLICATE_CONFLICT
    [(event_id, rejected)] = conflicting.events
    assert event_id == wire.conflict_event_id("cmd-1", conflicting.item.content_hash) != "cmd-1.e1"
    assert (rejected.command_id, rejected.command_type) == ("cmd-1", "allocation.AgreePersonalBudget.v1")
    assert (again.kind, again.events) == (DUPLICATE, ())
    assert loaded.budgets[("C001", "PB-1")].amount_pence == 52_000_00  # the first outcome stands


def test_a_rejection_is_an_event_naming_the_command_id_and_type():
    [out] = process([item(command("RevisePersonalBudget", budget_id="PB-404", amount_pence=1, reason="r"),
                          "cmd-9")], loaded := Loaded())
    assert out.kind == REJECTED
    [(event_id, rejected)] = out.events
    assert event_id == "cmd-9.e1"
    assert rejected.model_dump(mode="json") == {
        "command_id": "cmd-9", "command_type": "allocation.RevisePersonalBudget.v1",
        "reason_code": "UNKNOWN_BUDGET", "detail": "no agreed personal budget PB-404 in this council",
        "effective_date": "2026-04-01"}
    assert loaded.dirty_budgets == set()


def test_the_emitted_envelope_is_caused_by_the_command_and_carries_its_correlation():
    cmd_item = item(command("RevisePersonalBudget", budget_id="PB-404", amount_pence=1, reason="r"), "cmd-9")
    [out] = process([cmd_item], Loaded())
    [(event_id, event)] = out.events
    row = wire.outbox_row("allocation.events.v1", event, event_id, cmd_item.envelope)
    env = decode(row.value).envelope
    assert (env.id, env.causationid, env.correlationid, env.councilid) == ("cmd-9.e1", "cmd-9", "corr-cmd-9", "C001")
    assert (env.source, env.time, env.subject) == (wire.SOURCE, T0, "PB-404")
    assert row.key == b"cmd-9"  # careschemas.topics.message_key of a CommandRejected: its command id
    assert row.value == wire.outbox_row("allocation.events.v1", event, event_id, cmd_item.envelope).value


def test_accepted_events_are_keyed_by_their_budget():
    cmd_item = item(agree(), "cmd-1")
    [out] = process([cmd_item], Loaded())
    [(event_id, event)] = out.events
    assert wire.outbox_row("allocation.events.v1", event, event_id, cmd_item.envelope).key == b"PB-1"


def test_event_ids_stay_valid_for_the_longest_command_ids():
    long_id = "x" * 128
    ids = wire.event_ids(long_id, 12)
    assert len(set(ids)) == 12 and all(len(i) <= 128 for i in ids)
    assert ids == wire.event_ids(long_id, 12)
    assert len(wire.conflict_event_id(long_id, "ab" * 32)) <= 128


def test_a_command_id_that_spells_another_ids_hash_does_not_take_its_event_ids():
    """A command id too long to carry a suffix is replaced by 'h' + 40 hex digits of its SHA-256; that
    string is itself a valid command id. The two commands' events shared ids, and the ledger refused the
    second one's as a DUPLICATE_CONFLICT of the first while allocation had accepted it."""
    import hashlib

    long_id = "c" * 127
    spelled = "h" + hashlib.sha256(long_id.encode()).hexdigest()[:40]
    assert set(wire.event_ids(long_id, 3)).isdisjoint(wire.event_ids(spelled, 3))
    assert wire.conflict_event_id(long_id, "ab" * 32) != wire.conflict_event_id(spelled, "ab" * 32)
    assert set(wire.event_ids(long_id, 3)).isdisjoint([wire.conflict_event_id(spelled, "ab" * 32)])


def test_providers_registered_in_a_batch_serve_orders_commissioned_earlier_in_it():
    loaded = Loaded(budgets={("C001", "PB-1"): given(agreed())})
    provider, order = process([item(commission(), "cmd-order", partition=0, offset=5),
                               item(register(), "cmd-provider", partition=2, offset=9)], loaded)
    assert (provider.item.envelope.id, provider.kind) == ("cmd-provider", ACCEPTED)
    assert (order.item.envelope.id, order.kind) == ("cmd-order", ACCEPTED)
    assert loaded.new_orders == {("C001", "SO-1")}
    assert loaded.dirty_orders == {("C001", "PB-1", "SO-1")}


def test_councils_never_see_each_others_budgets_or_providers():
    loaded = Loaded(budgets={("C001", "PB-1"): given(agreed())})
    outcomes = process([item(register(), "p-1", council="C001"),
                        item(agree(), "a-2", council="C002"),
                        item(commission(), "o-2", council="C002")], loaded)
    assert [o.kind for o in outcomes] == [ACCEPTED, ACCEPTED, REJECTED]
    assert outcomes[-1].rejection.code == reasons.UNKNOWN_PROVIDER  # C001's provider is not C002's
    assert set(loaded.budgets) == {("C001", "PB-1"), ("C002", "PB-1")}


def test_an_order_id_used_on_another_budget_of_the_council_is_refused():
    loaded = Loaded(budgets={("C001", "PB-1"): given(agreed()), ("C001", "PB-2"): given(agreed("PB-2"))})
    first, second = process([item(register(), "p"), item(commission(budget_id="PB-1"), "o-1"),
                             item(commission(budget_id="PB-2"), "o-2")], loaded)[1:]
    assert first.kind == ACCEPTED
    assert second.rejection.code == reasons.ORDER_EXISTS


def test_state_round_trips_through_its_stored_form():
    budget = given(agreed(), commissioned(end=date(2026, 6, 30)))
    budget.routes["isf"] = state_codec.Route(10_000, "ISF-1")
    stored = orjson.loads(orjson.dumps(state_codec.dump_budget(budget)))
    orders = {k: state_codec.load_order(orjson.loads(orjson.dumps(state_codec.dump_order(o))))
              for k, o in budget.orders.items()}
    assert state_codec.load_budget(stored, orders) == budget
    assert state_codec.load_budget(orjson.loads(orjson.dumps(state_codec.dump_budget(budget, True)))) == budget


def test_command_ids_are_global_so_another_councils_reuse_of_one_is_a_conflict():
    """As documented (docs/allocation.md, rule 8): processed_commands is keyed by command id alone."""
    first, other = process([item(agree(), "cmd-1", council="C001"), item(agree(), "cmd-1", council="C002")],
                           loaded := Loaded())
    assert (first.kind, other.kind) == (ACCEPTED, CONFLICT)
    assert other.rejection.code == reasons.DUPLICATE_CONFLICT
    assert set(loaded.budgets) == {("C001", "PB-1")}
    assert "accepted" not in other.rejection.detail  # C002 is not told what became of C001's command
    [same_council] = process([item(agree(60_000_00), "cmd-1", council="C001")], loaded)
    assert "its first outcome (accepted) stands" in same_council.rejection.detail


def test_a_council_whose_stored_policy_is_not_valid_is_refused_and_its_neighbours_are_not():
    loaded = Loaded(invalid_policies={"C002": "variance_tolerance_bp must be 0..10000"})
    bad, good = process([item(agree(), "cmd-bad", council="C002", offset=0),
                         item(agree(budget_id="PB-2"), "cmd-good", council="C001", offset=1)], loaded)
    assert (bad.kind, bad.rejection.code) == (REJECTED, reasons.POLICY_INVALID)
    assert "variance_tolerance_bp" in bad.rejection.detail and ("C002", "PB-1") not in loaded.budgets
    assert good.kind == ACCEPTED
    [again] = process([item(agree(), "cmd-bad", council="C002", offset=2)], loaded)
    assert again.kind == DUPLICATE  # the rejection stands for that id, as for any rejection
