"""Payment runs (cancel after end/death, offsets, clawbacks, separation of duties) and surplus recovery."""
from __future__ import annotations

from datetime import date

from payments.domain.limits import MAX_PENCE, beyond, beyond_count
from payments.domain.model import BudgetView
from payments.domain.recovery import assess_surplus, offset, weekly_rate
from payments.domain.runs import Candidate, check_approval, end_to_end_id, plan_run

B = BudgetView("PB-1", "P-1", date(2026, 4, 1), date(2027, 3, 31))


def dp(pid, amount=100_000, due=date(2026, 5, 1), budget="PB-1"):
    return Candidate(pid, "direct_payment", amount, due, budget_id=budget)


def inv(pid, amount, provider="PR-1"):
    return Candidate(pid, "invoice", amount, date(2026, 5, 1), provider_id=provider, invoice_id=pid)


def test_surplus_over_the_allowed_weeks_after_liabilities():
    weekly = weekly_rate(100_000, 4)  # 25,000 a week
    assert assess_surplus(200_000, 0, weekly, 8) is None                 # exactly 8 weeks: fine
    s = assess_surplus(300_000, 20_000, weekly, 8)
    assert s.amount_pence == 300_000 - 20_000 - 8 * 25_000 and s.weeks_in_credit == 11
    assert assess_surplus(300_000, 150_000, weekly, 8) is None           # liabilities first


def test_offset_takes_what_it_can():
    assert offset(100, 30) == (70, 30)
    assert offset(100, 130) == (0, 100)


def test_run_applies_offsets_to_dps_and_credits_to_invoices():
    recoveries = {"PB-1": [["R-1", 150_000]]}
    plan = plan_run([dp("A", due=date(2026, 5, 1)), dp("B", due=date(2026, 5, 29)), inv("I-1", 50_000),
                     inv("I-2", 40_000)], {"PB-1": B}, recoveries, {"PR-1": 60_000})
    amounts = {p.candidate.payment_id: p.amount_pence for p in plan.payments}
    assert plan.offset_in_full == ["A", "I-1"]  # A: 100,000 recovered from it; I-1: clawed back in full
    assert amounts == {"B": 50_000, "I-2": 30_000}  # B: the other 50,000 recovered; I-2: 10,000 clawed back
    assert plan.recovered == [("R-1", "PB-1", 100_000), ("R-1", "PB-1", 50_000)]
    assert recoveries["PB-1"][0][1] == 0
    assert plan.credits_used == {"PR-1": 60_000}
    assert plan.total_pence == 80_000


def test_run_cancels_dps_after_death_or_end():
    died = BudgetView("PB-1", "P-1", date(2026, 4, 1), date(2027, 3, 31), died_on=date(2026, 5, 10))
    plan = plan_run([dp("A", due=date(2026, 5, 1)), dp("B", due=date(2026, 5, 29)), dp("C", budget="PB-X")],
                    {"PB-1": died}, {}, {})
    assert [p.candidate.payment_id for p in plan.payments] == ["A"]
    assert [(c[0], c[1]) for c in plan.cancelled] == [("C", "UNKNOWN_BUDGET"), ("B", "PAYMENT_AFTER_DEATH")]


def test_the_creator_cannot_approve_and_a_run_is_approved_once():
    assert check_approval("alice", None, "Alice ").code == "SELF_APPROVAL"
    assert check_approval("alice", "bob", "carol").code == "RUN_ALREADY_APPROVED"
    assert check_approval("alice", None, "bob") is None


def test_end_to_end_ids_are_short_stable_and_distinct():
    a, b = end_to_end_id("C1", "S-1-P000"), end_to_end_id("C1", "S-1-P001")
    assert a == end_to_end_id("C1", "S-1-P000") and a != b and len(a) <= 18


def test_a_run_leaves_due_what_would_take_its_total_past_64_bits():
    """Each payment fits a bigint, two of them do not: the second waits for the next run."""
    half = 2**62
    recoveries = {"PB-1": [["R-1", 10]]}
    plan = plan_run([dp("A", half, due=date(2026, 5, 1)), dp("B", half, due=date(2026, 5, 2)), inv("I-1", half),
                     dp("C", 5, due=date(2026, 5, 3))], {"PB-1": B}, recoveries, {"PR-1": 7})
    # A and I-1 (due first) are paid after their offsets, which leaves 2^63 - 1 - (2^63 - 17) = 16p of room:
    # B does not fit, C (5p, due after B) does
    assert [(p.candidate.payment_id, p.amount_pence) for p in plan.payments] == [
        ("A", half - 10), ("I-1", half - 7), ("C", 5)]
    assert plan.left_due == ["B"]
    assert plan.total_pence <= MAX_PENCE
    assert recoveries["PB-1"][0][1] == 0 and plan.credits_used == {"PR-1": 7}


def test_a_later_part_of_a_run_has_only_the_room_its_earlier_parts_left():
    plan = plan_run([dp("A", 100), dp("B", 50, due=date(2026, 5, 2))], {"PB-1": B}, {}, {}, room=120)
    assert [p.candidate.payment_id for p in plan.payments] == ["A"] and plan.left_due == ["B"]
    recoveries = {"PB-1": [["R-1", 30]]}
    left = plan_run([dp("A", 100), inv("I-1", 100)], {"PB-1": B}, recoveries, {"PR-1": 30}, room=99)
    assert left.left_due == ["A", "I-1"]  # judged on the full amount: nothing is offset against them
    assert recoveries["PB-1"][0][1] == 30 and left.recovered == [] and left.credits_used == {}


def test_a_run_still_cancels_what_it_would_not_have_room_for():
    died = BudgetView("PB-1", "P-1", date(2026, 4, 1), date(2027, 3, 31), died_on=date(2026, 4, 30))
    plan = plan_run([dp("A", MAX_PENCE)], {"PB-1": died}, {}, {}, room=1)
    assert plan.left_due == [] and [c[0] for c in plan.cancelled] == ["A"]


def test_numbers_beyond_what_is_stored_are_out_of_range():
    assert beyond("credit", MAX_PENCE) is None
    refused = beyond("credit", MAX_PENCE + 1)
    assert refused.code == "AMOUNT_OUT_OF_RANGE" and str(MAX_PENCE + 1) in refused.detail
    assert beyond_count("weeks", 2**31 - 1) is None and beyond_count("weeks", 2**31).code == "AMOUNT_OUT_OF_RANGE"


def test_a_penny_a_week_and_a_large_balance_is_more_weeks_in_credit_than_a_count_holds():
    s = assess_surplus(2**40, 0, weekly_rate(1, 1), 8)
    assert s.weeks_in_credit == 2**40 and beyond_count("weeks in credit", s.weeks_in_credit) is not None
