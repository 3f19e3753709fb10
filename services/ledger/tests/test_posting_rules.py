"""Given events / when event / then outcome: the posting rules and invariants, with no I/O."""
from __future__ import annotations

from datetime import date

import pytest

from ledger.domain import accounts as acct
from ledger.domain import reasons
from ledger.domain.ledger import apply
from ledger.domain.model import Book

from builders import COUNCIL, agreed, event, instructed, invoice_line, order, returned, settled

SHARD = "t:0"
BUDGET = acct.budget(COUNCIL, "PB-1")
COMMITTED = acct.committed(COUNCIL, "PB-1")
PENDING = acct.pending(COUNCIL, "PB-1")


def given(*events):
    book = Book()
    for ev in events:
        outcome = apply(book, ev, SHARD)
        assert outcome.kind in ("posted", "noted"), (ev.type, outcome.rejection)
    return book


def rejected(book, ev, code):
    outcome = apply(book, ev, SHARD)
    assert outcome.kind == "rejected", outcome
    assert outcome.rejection.code == code
    return outcome


def test_agreeing_a_budget_credits_the_budget_from_the_council_fund():
    book = Book()
    outcome = apply(book, agreed(amount=10_000), SHARD)
    assert outcome.kind == "posted"
    assert {(ln.account, ln.debit, ln.credit) for ln in outcome.entry.lines} == {
        (acct.funding(COUNCIL, "PB-1", "council"), 10_000, 0), (BUDGET, 0, 10_000)}
    assert book.available(BUDGET) == 10_000
    assert sum(book.balances.values()) == 0


def test_a_budget_cannot_be_agreed_twice():
    rejected(given(agreed()), agreed(), reasons.BUDGET_ALREADY_AGREED)


def test_commissioning_commits_rate_times_units_per_week_over_the_days():
    book = given(agreed(amount=100_000))
    apply(book, order(rate=2000, units=10), SHARD)  # 4 weeks x 10 h x £20
    assert book.available(COMMITTED) == 80_000
    assert book.available(BUDGET) == 20_000


def test_an_order_beyond_the_budget_is_refused_without_authorisation():
    book = given(agreed(amount=50_000))
    rejected(book, order(rate=2000, units=10), reasons.INSUFFICIENT_BUDGET)
    assert book.available(BUDGET) == 50_000 and book.available(COMMITTED) == 0


def test_an_authorised_overspend_allows_going_below_zero_up_to_the_limit():
    book = given(agreed(amount=50_000), event("OverspendAuthorised", budget_id="PB-1", authoriser="Head of ASC",
                                              limit_pence=30_000, reason="end of life care"))
    assert apply(book, order(rate=2000, units=10), SHARD).kind == "posted"
    assert book.available(BUDGET) == -30_000
    rejected(book, order("SO-2", rate=100, units=1), reasons.INSUFFICIENT_BUDGET)


def test_an_order_outside_the_budget_dates_is_refused():
    rejected(given(agreed()), order(end_date=date(2027, 5, 1)), reasons.ORDER_OUTSIDE_BUDGET)


def test_varying_an_order_reprices_it_from_the_effective_date():
    book = given(agreed(amount=100_000), order(rate=2000, units=10))
    varied = event("ServiceOrderVaried", order_id="SO-1", budget_id="PB-1", rate_pence=2000,
                   planned_units_per_week=5, end_date=date(2026, 4, 28), effective_date=date(2026, 4, 15))
    assert apply(book, varied, SHARD).kind == "posted"
    assert book.available(COMMITTED) == 40_000 + 20_000  # two weeks at 10 h, two at 5 h


def test_ending_an_order_early_releases_the_rest_of_its_commitment():
    book = given(agreed(amount=100_000), order(rate=2000, units=10))
    ended = event("ServiceOrderEnded", order_id="SO-1", budget_id="PB-1", end_date=date(2026, 4, 14), reason="moved")
    assert apply(book, ended, SHARD).kind == "posted"
    assert book.available(COMMITTED) == 40_000 and book.available(BUDGET) == 60_000


def test_two_phase_payment_reserve_then_settle():
    book = given(agreed(amount=100_000))
    reserve = apply(book, instructed(amount=30_000), SHARD)
    assert reserve.kind == "posted"
    assert book.available(PENDING) == 30_000 and book.available(BUDGET) == 70_000
    assert apply(book, settled(amount=30_000), SHARD).kind == "posted"
    assert book.available(PENDING) == 0 and book.available(acct.bank(COUNCIL)) == 30_000


def test_payments_draw_on_commitments_before_free_budget():
    book = given(agreed(amount=100_000), order(rate=2000, units=10))
    apply(book, instructed(amount=90_000), SHARD)
    assert book.available(COMMITTED) == 0 and book.available(BUDGET) == 10_000


def test_a_return_before_settlement_reverses_the_reservation_and_cites_it():
    book = given(agreed(amount=100_000))
    reserve = apply(book, instructed(amount=30_000), SHARD)
    back = apply(book, returned(amount=30_000), SHARD)
    assert back.entry.reverses_entry_id == reserve.entry.entry_id
    assert book.available(BUDGET) == 100_000 and book.available(PENDING) == 0


def test_a_return_after_settlement_reverses_the_settlement_and_cites_it():
    book = given(agreed(amount=100_000), instructed(amount=30_000))
    settle = apply(book, settled(amount=30_000), SHARD)
    back = apply(book, returned(amount=30_000), SHARD)
    assert back.entry.reverses_entry_id == settle.entry.entry_id
    assert book.available(acct.bank(COUNCIL)) == 0 and book.available(BUDGET) == 100_000


@pytest.mark.parametrize("ev, code", [
    (settled("NOPE"), reasons.UNKNOWN_PAYMENT),
    (settled(amount=29_999), reasons.AMOUNT_MISMATCH),
    (instructed(amount=5), reasons.DUPLICATE_PAYMENT),
])
def test_settlement_and_instruction_errors(ev, code):
    rejected(given(agreed(amount=100_000), instructed(amount=30_000)), ev, code)


def test_settling_twice_is_refused():
    book = given(agreed(amount=100_000), instructed(amount=30_000), settled(amount=30_000))
    rejected(book, settled(amount=30_000), reasons.PAYMENT_NOT_PENDING)


def test_no_payment_after_death_or_after_the_budget_end():
    book = given(agreed(amount=100_000), event("PersonDied", budget_id="PB-1", person_ref="P-PB-1",
                                               date_of_death=date(2026, 6, 30)))
    rejected(book, instructed("P2", due=date(2026, 7, 1)), reasons.PAYMENT_AFTER_DEATH)
    assert apply(book, instructed("P3", due=date(2026, 6, 30), amount=100), SHARD).kind == "posted"
    rejected(given(agreed()), instructed("P4", due=date(2027, 4, 1)), reasons.PAYMENT_AFTER_END)


def test_a_closed_budget_takes_no_changes_dated_after_it_closed():
    book = given(agreed(), event("PersonalBudgetEnded", budget_id="PB-1", end_date=date(2026, 9, 30), reason="moved away"))
    rejected(book, order(effective_date=date(2026, 10, 1)), reasons.BUDGET_CLOSED)


def test_closure_is_judged_by_effective_date_not_by_reading_order():
    book = given(agreed(amount=100_000), event("PersonDied", budget_id="PB-1", person_ref="p", date_of_death=date(2026, 6, 30)))
    assert apply(book, order(effective_date=date(2026, 4, 1)), SHARD).kind == "posted"
    rejected(book, order("SO-2", effective_date=date(2026, 7, 1)), reasons.BUDGET_CLOSED)


def test_ending_a_budget_hands_the_unspent_amount_back_to_its_funders():
    book = given(agreed(amount=100_000), event("FundingSplitAgreed", budget_id="PB-1", icb_pence=60_000, pooled_pence=0),
                 instructed(amount=70_000))
    outcome = apply(book, event("PersonalBudgetEnded", budget_id="PB-1", end_date=date(2026, 9, 30), reason="r"), SHARD)
    assert outcome.kind == "posted"
    assert book.available(BUDGET) == 0
    assert book.balance(acct.funding(COUNCIL, "PB-1", "council")) == 10_000  # 40,000 share, 30,000 released first
    assert book.balance(acct.funding(COUNCIL, "PB-1", "icb")) == 60_000


def test_funding_split_and_contribution_move_shares_but_not_the_total():
    book = given(agreed(amount=100_000))
    apply(book, event("FundingSplitAgreed", budget_id="PB-1", icb_pence=30_000, pooled_pence=10_000), SHARD)
    apply(book, event("ContributionAssessed", budget_id="PB-1", weekly_pence=500, mode="netted"), SHARD)
    shares = {s: book.balance(acct.funding(COUNCIL, "PB-1", s)) for s in acct.FUNDING_SOURCES}
    assert shares == {"council": 34_000, "icb": 30_000, "pooled": 10_000, "contribution": 26_000}
    assert book.available(BUDGET) == 100_000


def test_shares_beyond_the_agreed_amount_are_refused():
    rejected(given(agreed(amount=100_000)),
             event("FundingSplitAgreed", budget_id="PB-1", icb_pence=90_000, pooled_pence=20_000),
             reasons.SPLIT_EXCEEDS_BUDGET)


def test_revising_below_what_is_committed_is_refused():
    book = given(agreed(amount=100_000), order(rate=2000, units=10))
    rejected(book, event("PersonalBudgetRevised", budget_id="PB-1", amount_pence=50_000, reason="review"),
             reasons.INSUFFICIENT_BUDGET)
    assert apply(book, event("PersonalBudgetRevised", budget_id="PB-1", amount_pence=90_000, reason="review"),
                 SHARD).kind == "posted"
    assert book.available(BUDGET) == 10_000


def test_approved_invoices_consume_commitment_and_are_owed_to_the_provider():
    book = given(agreed(amount=100_000), order(rate=2000, units=10))
    approved = event("InvoiceApproved", invoice_id="INV-1", provider_id="PR-1", approved_by="clerk",
                     lines=[invoice_line(units=10, rate=2000)])
    assert apply(book, approved, SHARD).kind == "posted"
    assert book.available(COMMITTED) == 60_000
    assert book.available(acct.payable(COUNCIL, "PR-1")) == 20_000
    again = event("InvoiceApproved", invoice_id="INV-1", provider_id="PR-1", approved_by="clerk", lines=[invoice_line()])
    rejected(book, again, reasons.DUPLICATE_INVOICE)
    rejected(book, instructed("PP-1", budget_id=None, kind="invoice", provider_id="PR-1", invoice_id="INV-1",
                              amount=20_001), reasons.PAYMENT_EXCEEDS_PAYABLE)
    pay = instructed("PP-2", budget_id=None, kind="invoice", provider_id="PR-1", invoice_id="INV-1", amount=20_000)
    assert apply(book, pay, SHARD).kind == "posted"
    assert book.available(acct.payable(COUNCIL, "PR-1")) == 0


def test_surplus_recovery_is_raised_then_recovered_but_not_beyond_what_was_raised():
    book = given(agreed())
    apply(book, event("SurplusRecoveryRaised", recovery_id="R-1", budget_id="PB-1", amount_pence=5_000,
                      weeks_in_credit=10, method="invoice"), SHARD)
    rejected(book, event("SurplusRecovered", recovery_id="R-1", budget_id="PB-1", amount_pence=6_000), reasons.INVALID_AMOUNT)
    assert apply(book, event("SurplusRecovered", recovery_id="R-1", budget_id="PB-1", amount_pence=5_000), SHARD).kind == "posted"
    assert book.balance(acct.recoverable(COUNCIL, "PB-1")) == 0


def test_same_event_twice_gives_the_same_outcome_and_no_second_entry():
    book = Book()
    first = agreed(event_id="E-1")
    assert apply(book, first, SHARD).kind == "posted"
    assert apply(book, first, SHARD).kind == "duplicate"
    assert book.heads[SHARD][0] == 1


def test_a_reused_event_id_with_other_content_is_a_conflict_and_stays_one():
    book = given(agreed(event_id="E-1", amount=100))
    changed = agreed(event_id="E-1", amount=200)
    rejected(book, changed, reasons.DUPLICATE_CONFLICT)
    assert apply(book, changed, SHARD).kind == "duplicate"
    assert book.available(BUDGET) == 100


def test_unknown_budget_is_deferred_when_asked_and_leaves_the_book_untouched():
    book = Book()
    outcome = apply(book, instructed(), SHARD, defer_retriable=True)
    assert outcome.kind == "deferred" and not book.processed and not book.heads
    rejected(book, instructed(), reasons.UNKNOWN_BUDGET)


def test_entries_chain_by_hash_within_a_shard():
    book = Book()
    a = apply(book, agreed("PB-1"), SHARD).entry
    b = apply(book, agreed("PB-2"), SHARD).entry
    c = apply(book, agreed("PB-3"), "other:1").entry
    assert b.prev_hash == a.hash and a.prev_hash == "0" * 64 and c.prev_hash == "0" * 64
    assert (a.shard_seq, b.shard_seq, c.shard_seq) == (1, 2, 1)


def test_command_types_have_no_posting_rule():
    outcome = apply(Book(), event("AgreePersonalBudget", budget_id="PB-1", person_ref="p", amount_pence=1,
                                  start_date=date(2026, 4, 1), end_date=date(2027, 3, 31)), SHARD)
    assert outcome.rejection.code == reasons.NO_POSTING_RULE


def test_an_ended_order_may_be_ended_again_earlier_only():
    """Rule version 2026.2: a death before an ended order's end date releases what stays committed after
    it; a second end that is not earlier is still refused."""
    book = given(agreed(amount=100_000), order(rate=2000, units=10))
    first = event("ServiceOrderEnded", order_id="SO-1", budget_id="PB-1", end_date=date(2026, 4, 21), reason="moved")
    assert apply(book, first, SHARD).kind == "posted"
    assert book.available(COMMITTED) == 60_000
    not_earlier = event("ServiceOrderEnded", order_id="SO-1", budget_id="PB-1", end_date=date(2026, 4, 21),
                        reason="again")
    assert apply(book, not_earlier, SHARD).rejection.code == reasons.UNKNOWN_ORDER
    earlier = event("ServiceOrderEnded", order_id="SO-1", budget_id="PB-1", end_date=date(2026, 4, 14),
                    reason="Person died")
    assert apply(book, earlier, SHARD).kind == "posted"
    assert book.available(COMMITTED) == 40_000 and book.available(BUDGET) == 60_000


@pytest.mark.parametrize("start, end", [(date(2026, 4, 1), date.max), (date.min, date(2026, 4, 28))])
def test_orders_at_the_calendars_edges_are_repriced_without_overflow(start, end):
    """An open-ended order (9999-12-31) or one from 0001-01-01 is varied and ended like any other: a
    coded outcome, never an exception that would stall the worker on the same batch for ever."""
    book = given(agreed(amount=10**9, start_date=start, end_date=end))
    assert apply(book, order(rate=1, units=1, start_date=start, end_date=end), SHARD).kind == "posted"
    for kind, fields in (("ServiceOrderVaried", {"rate_pence": 1, "planned_units_per_week": 2, "end_date": end}),
                         ("ServiceOrderEnded", {"end_date": end, "reason": "open-ended"})):
        for effective in (start, end):
            outcome = apply(book, event(kind, order_id="SO-1", budget_id="PB-1", effective_date=effective, **fields),
                            SHARD)
            assert outcome.kind in ("posted", "rejected", "noted")


def test_a_posting_beyond_the_journals_64_bit_amounts_raises_and_is_refused_once_known():
    """Two settlements of 2^62 pence into the council's bank account: every field validates and each line fits
    a bigint, but the second would leave the bank's balance beyond one. apply raises (the rules have changed
    the book by then); with the event in `refused`, a fresh book rejects it before its rule runs, and goes on
    deciding the rest as if it had never come."""
    from ledger.domain.invariants import AmountOutOfRange

    most = 2**63 - 1
    history = (agreed("PB-1", most), agreed("PB-2", most), instructed("PAY-1", "PB-1", 2**62),
               settled("PAY-1", 2**62), instructed("PAY-2", "PB-2", 2**62))
    too_much = settled("PAY-2", 2**62)
    with pytest.raises(AmountOutOfRange) as caught:
        apply(given(*history), too_much, SHARD)
    assert caught.value.event_id == too_much.event_id
    assert "bank" in caught.value.detail and "at most 9223372036854775807p" in caught.value.detail

    fresh = given(*history)
    fresh.refused[too_much.event_id] = caught.value.detail
    before = dict(fresh.balances)
    outcome = rejected(fresh, too_much, reasons.AMOUNT_OUT_OF_RANGE)
    assert outcome.rejection.detail == caught.value.detail
    assert fresh.balances == before and fresh.holds["PAY-2"].status == "reserved"
    assert apply(fresh, too_much, SHARD).kind == "duplicate"  # decided once, like any other outcome
    assert apply(fresh, returned("PAY-2", 2**62), SHARD).kind == "posted"  # the rest goes on


def test_the_largest_amounts_still_post():
    """2^63-1 pence is a bigint: a budget of it posts, and leaves balances of exactly that size."""
    book = Book()
    outcome = apply(book, agreed(amount=2**63 - 1), SHARD)
    assert outcome.kind == "posted"
    assert book.balances[BUDGET] == -(2**63 - 1)
