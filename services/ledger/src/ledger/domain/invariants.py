"""The error a broken invariant raises: a bug in a posting rule, never business input.

A module of its own, left as Python when the rest of the domain is compiled (ledger.native): mypyc
cannot compile a class that derives from AssertionError.
"""


class InvariantBroken(AssertionError):
    """A posting rule produced an unbalanced or malformed posting."""
