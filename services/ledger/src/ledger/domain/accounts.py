"""Chart of accounts: how account ids are spelled, and which side each kind normally sits on.

An account id is `<council>/<kind>/<owner>[/<sub>]`, e.g. `C001/budget/PB-1` or
`C001/funding/PB-1/icb`. "/" cannot occur in ids (see the envelope's ID pattern), so ids never clash.
Balances are signed: debit positive, credit negative. Credit-normal accounts report `-balance`.
"""
from __future__ import annotations

FUNDING_SOURCES = ("council", "icb", "pooled", "contribution")

# kind -> (normal side, what it means)
KINDS: dict[str, tuple[str, str]] = {
    "funding": ("debit", "How much of one budget each funding source (council, icb, pooled, contribution) pays"),
    "budget": ("credit", "Agreed budget not yet committed or spent (may not go below zero unless authorised)"),
    "committed": ("credit", "Budget committed to service orders and DP schedules, not yet spent"),
    "pending": ("credit", "Payments instructed and reserved, awaiting settlement or return (two-phase)"),
    "payable": ("credit", "Approved provider invoices owed to the provider"),
    "bank": ("credit", "Money paid out of the council's bank account"),
    "recoverable": ("debit", "Surplus or overpayment the council is recovering"),
    "recovered": ("credit", "Surplus and overpayments recovered, returned to the council's funds"),
}


def account(council: str, kind: str, owner: str | None = None, sub: str | None = None) -> str:
    parts = [council, kind]
    if owner is not None:
        parts.append(owner)
    if sub is not None:
        parts.append(sub)
    return "/".join(parts)


def funding(council: str, budget_id: str, source: str) -> str:
    return f"{council}/funding/{budget_id}/{source}"


def budget(council: str, budget_id: str) -> str:
    return f"{council}/budget/{budget_id}"


def committed(council: str, budget_id: str) -> str:
    return f"{council}/committed/{budget_id}"


def pending(council: str, owner: str) -> str:
    return f"{council}/pending/{owner}"


def payable(council: str, provider_id: str) -> str:
    return f"{council}/payable/{provider_id}"


def bank(council: str) -> str:
    return f"{council}/bank"


def recoverable(council: str, owner: str) -> str:
    return f"{council}/recoverable/{owner}"


def recovered(council: str) -> str:
    return f"{council}/recovered"


def parse(account_id: str) -> tuple[str, str, str | None]:
    """(council, kind, owner) of an account id."""
    parts = account_id.split("/")
    return parts[0], parts[1], parts[2] if len(parts) > 2 else None
