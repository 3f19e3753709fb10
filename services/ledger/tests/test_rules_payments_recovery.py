"""Surplus recovered by offset against a direct payment: the DP's commitment settles the recoverable,
the bank is not touched; paid-in recoveries still come through the bank."""
from __future__ import annotations

from datetime import date

from ledger.domain import accounts as acct
from ledger.domain.ledger import apply
from ledger.domain.model import Book

from builders import COUNCIL, agreed, event, instructed

SHARD = "t:0"


def _book_with_raised_recovery(amount: int = 30_000) -> Book:
    book = Book()
    for ev in (agreed(amount=1_000_000),
               event("DirectPaymentScheduled", schedule_id="S-1", budget_id="PB-1", amount_pence=100_000,
                     frequency_weeks=4, first_due_date=date(2026, 4, 1), end_date=date(2026, 6, 23),
                     contribution_mode="gross"),
               event("SurplusRecoveryRaised", recovery_id="R-1", budget_id="PB-1", amount_pence=amount,
                     weeks_in_credit=11, method="offset")):
        assert apply(book, ev, SHARD).kind == "posted"
    return book


def test_an_offset_recovery_draws_the_dp_commitment_not_the_bank():
    book = _book_with_raised_recovery()
    committed_before = book.available(acct.committed(COUNCIL, "PB-1"))
    # the next DP (100,000) is instructed for 70,000; 30,000 is kept back against the recovery
    assert apply(book, instructed("S-1-P001", amount=70_000), SHARD).kind == "posted"
    outcome = apply(book, event("SurplusRecovered", recovery_id="R-1", budget_id="PB-1", amount_pence=30_000,
                                offset_payment_id="S-1-P001"), SHARD)
    assert outcome.kind == "posted"
    lines = {(ln.account, ln.debit, ln.credit) for ln in outcome.entry.lines}
    assert lines == {(acct.committed(COUNCIL, "PB-1"), 30_000, 0), (acct.recoverable(COUNCIL, "PB-1"), 0, 30_000)}
    assert book.balance(acct.recoverable(COUNCIL, "PB-1")) == 0
    assert book.available(acct.committed(COUNCIL, "PB-1")) == committed_before - 100_000
    assert book.balance(acct.bank(COUNCIL)) == 0
    assert sum(book.balances.values()) == 0


def test_a_paid_in_recovery_still_debits_the_bank():
    book = _book_with_raised_recovery()
    outcome = apply(book, event("SurplusRecovered", recovery_id="R-1", budget_id="PB-1", amount_pence=30_000), SHARD)
    assert {(ln.account, ln.debit) for ln in outcome.entry.lines if ln.debit} == {(acct.bank(COUNCIL), 30_000)}
