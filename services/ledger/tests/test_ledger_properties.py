"""Property-based tests over random event sequences, valid and invalid, with no I/O.

For any sequence: the trial balance sums to zero after every event, no budget account goes below zero
beyond its authorised limit, every entry balances, and replaying the same input into an empty book
gives the same journal and the same chain heads.
"""
from __future__ import annotations

from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.domain import accounts as acct
from ledger.domain.ledger import apply
from ledger.domain.model import Book

from builders import COUNCIL, agreed, event, instructed, invoice_line, order, returned, settled

BUDGETS = ["PB-1", "PB-2", "PB-3"]
PAYMENTS = ["PAY-1", "PAY-2", "PAY-3", "PAY-4"]
START = date(2026, 4, 1)

budget_ids = st.sampled_from(BUDGETS)
pence = st.integers(min_value=1, max_value=200_000)
days = st.integers(min_value=0, max_value=400)


def _dated(offset: int) -> date:
    return START + timedelta(days=offset)


events = st.one_of(
    st.builds(lambda b, a: agreed(b, a), budget_ids, pence),
    st.builds(lambda b, a: event("PersonalBudgetRevised", budget_id=b, amount_pence=a, reason="review"), budget_ids, pence),
    st.builds(lambda b, i, p: event("FundingSplitAgreed", budget_id=b, icb_pence=i, pooled_pence=p),
              budget_ids, st.integers(0, 100_000), st.integers(0, 50_000)),
    st.builds(lambda b, w: event("ContributionAssessed", budget_id=b, weekly_pence=w, mode="netted"), budget_ids, st.integers(0, 2_000)),
    st.builds(lambda o, b, r, u, s, n: order(f"SO-{o}", b, r, u, start_date=_dated(s), end_date=_dated(s + n)),
              st.integers(1, 4), budget_ids, st.integers(1, 3_000), st.integers(1, 20), days, st.integers(0, 120)),
    st.builds(lambda o, b, r, u, e: event("ServiceOrderVaried", order_id=f"SO-{o}", budget_id=b, rate_pence=r,
                                          planned_units_per_week=u, end_date=_dated(300), effective_date=_dated(e)),
              st.integers(1, 4), budget_ids, st.integers(1, 3_000), st.integers(1, 20), days),
    st.builds(lambda o, b, e: event("ServiceOrderEnded", order_id=f"SO-{o}", budget_id=b, end_date=_dated(e), reason="r"),
              st.integers(1, 4), budget_ids, days),
    st.builds(lambda p, b, a, d: instructed(p, b, a, due=_dated(d)), st.sampled_from(PAYMENTS), budget_ids, pence, days),
    st.builds(lambda p, a: settled(p, a), st.sampled_from(PAYMENTS), pence),
    st.builds(lambda p, a: returned(p, a), st.sampled_from(PAYMENTS), pence),
    st.builds(lambda b, d: event("PersonDied", budget_id=b, person_ref="p", date_of_death=_dated(d)), budget_ids, days),
    st.builds(lambda b, lim: event("OverspendAuthorised", budget_id=b, authoriser="head", limit_pence=lim, reason="r"), budget_ids, pence),
    st.builds(lambda b, d: event("PersonalBudgetEnded", budget_id=b, end_date=_dated(d), reason="r"), budget_ids, days),
    st.builds(lambda i, b, u, r: event("InvoiceApproved", invoice_id=f"INV-{i}", provider_id="PR-1", approved_by="c",
                                       lines=[invoice_line(b, units=u, rate=r)]),
              st.integers(1, 3), budget_ids, st.integers(1, 40), st.integers(1, 3_000)),
    st.builds(lambda b, a: event("SurplusRecoveryRaised", recovery_id=f"R-{b}", budget_id=b, amount_pence=a,
                                 weeks_in_credit=9, method="offset"), budget_ids, pence),
    st.builds(lambda b, a: event("SurplusRecovered", recovery_id=f"R-{b}", budget_id=b, amount_pence=a), budget_ids, pence),
)


@st.composite
def histories(draw):
    """A random history, with some events re-sent as they were and some ids reused with new content."""
    history = draw(st.lists(events, min_size=1, max_size=60))
    for _ in range(draw(st.integers(0, 5))):
        history.insert(draw(st.integers(0, len(history))), draw(st.sampled_from(history)))
    for _ in range(draw(st.integers(0, 3))):
        original, other = draw(st.sampled_from(history)), draw(events)
        history.append(type(other)(original.event_id, other.type, other.council_id, other.content_hash,
                                   other.recorded_at, other.payload))
    return history


def run(history):
    book, outcomes = Book(), []
    for i, ev in enumerate(history):
        outcomes.append(apply(book, ev, f"s:{i % 2}"))
        assert sum(book.balances.values()) == 0
        for terms in book.budgets.values():
            assert book.available(acct.budget(COUNCIL, terms.budget_id)) >= -terms.authorised_limit
    return book, outcomes


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories())
def test_balance_overspend_and_replay_properties(history):
    book, outcomes = run(history)
    for outcome in outcomes:
        if outcome.entry:
            assert sum(ln.debit for ln in outcome.entry.lines) == sum(ln.credit for ln in outcome.entry.lines)
    replayed, replay_outcomes = run(history)
    assert replayed.heads == book.heads
    assert [o.entry for o in replay_outcomes] == [o.entry for o in outcomes]
    assert [(o.kind, o.rejection) for o in replay_outcomes] == [(o.kind, o.rejection) for o in outcomes]


@settings(max_examples=100, deadline=None)
@given(histories())
def test_each_event_id_is_applied_at_most_once(history):
    _, outcomes = run(history)
    posted = [o.event.event_id for o in outcomes if o.kind == "posted"]
    assert len(posted) == len(set(posted))
