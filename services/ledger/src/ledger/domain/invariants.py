"""The errors `apply` raises instead of deciding: a broken invariant (a bug in a posting rule, never business
input), and amounts too large for the journal (absurd input, refused on the second try).

A module of its own, left as Python when the rest of the domain is compiled (ledger.native): mypyc
cannot compile a class that derives from AssertionError.
"""


class InvariantBroken(AssertionError):
    """A posting rule produced an unbalanced or malformed posting."""


class AmountOutOfRange(Exception):
    """A posting whose line amount, or the balance it would leave, does not fit the journal's signed 64-bit
    amounts. The rule has already changed the book by then, so the book must be thrown away; the caller
    records the event in `Book.refused` and decides the batch again, and `apply` then rejects the event
    (AMOUNT_OUT_OF_RANGE) before its rule runs."""

    def __init__(self, event_id: str, detail: str) -> None:
        super().__init__(f"{event_id}: {detail}")
        self.event_id = event_id
        self.detail = detail
