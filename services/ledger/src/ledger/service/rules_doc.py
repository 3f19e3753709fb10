"""Render the posting-rule table and the chart of accounts as Markdown (docs/posting-rules.md)."""
from __future__ import annotations

from ..domain import accounts, reasons
from ..domain.rules import RULE_VERSION, TABLE, VERSIONS

HEADER = """# Posting rules

Generated from `services/ledger/src/ledger/domain/rules.py` by `python -m ledger rules > docs/posting-rules.md`;
a test fails when this file is stale. Every journal entry records the rule version that produced it.

**Rule version: {version}.** `B` is the budget id, `P` the provider id, `X` either (the payment's owner).
Amounts are integer pence; every entry balances (debits = credits), which the database also checks.
"""


def render() -> str:
    out = [HEADER.format(version=RULE_VERSION), "## Rules", "",
           "| event type | debit | credit |", "| --- | --- | --- |"]
    out += [f"| `{rule.event_type}` | {rule.debit} | {rule.credit} |" for rule in TABLE]
    out += ["", "Rows with `-` post nothing: the event is recorded as *noted* (it may still change the",
            "ledger's working state, e.g. a death closes the budget to later payments).", "",
            "## Chart of accounts", "", "Account ids are `<council>/<kind>/<owner>[/<sub>]`.", "",
            "| kind | normal side | meaning |", "| --- | --- | --- |"]
    out += [f"| `{kind}` | {side} | {meaning} |" for kind, (side, meaning) in accounts.KINDS.items()]
    out += ["", "## Rejection reason codes (`ledger.PostingRejected.v1`)", ""]
    out += [f"- `{code}`" for code in reasons.ALL]
    out += ["", "Retriable (deferred while the budget topic is behind, then rejected): "
            + ", ".join(f"`{c}`" for c in sorted(reasons.RETRIABLE)), ""]
    out += ["## Versions", "", "| version | what changed |", "| --- | --- |"]
    out += [f"| {version} | {change} |" for version, change in VERSIONS] + [""]
    return "\n".join(out)
