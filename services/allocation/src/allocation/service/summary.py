"""The read-only budget summary: what a caseworker or auditor sees of one budget (agreed, funded by
whom, routed how, committed to which orders, and what headroom is left). Pure; the faust view serves it."""
from __future__ import annotations

from typing import Any

from ..domain.model import Budget


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def budget_summary(budget: Budget) -> dict[str, Any]:
    return {
        "council_id": budget.council_id,
        "budget_id": budget.budget_id,
        "person_ref": budget.person_ref,
        "status": budget.status,
        "indicative_pence": budget.indicative_pence,
        "agreed_pence": budget.amount_pence,
        "variance_reason": budget.variance_reason,
        "start_date": _iso(budget.start_date),
        "end_date": _iso(budget.end_date),
        "funding": {
            "council_pence": budget.council_share_pence,
            "icb_pence": budget.icb_pence,
            "pooled_pence": budget.pooled_pence,
            "contribution_annual_pence": budget.contribution_annual_pence,
            "contribution_weekly_pence": budget.contribution_weekly_pence,
            "contribution_mode": budget.contribution_mode,
            "agreement_ref": budget.agreement_ref,
        },
        "routes": {name: {"amount_pence": r.amount_pence, "holder_ref": r.holder_ref}
                   for name, r in sorted(budget.routes.items())},
        "routes_total_pence": budget.routes_total_pence,
        "committed_pence": budget.committed_pence,
        "overspend_limit_pence": budget.overspend_limit_pence,
        "overspend_authoriser": budget.overspend_authoriser,
        "headroom_pence": budget.spend_ceiling_pence - budget.committed_pence,
        "orders": [{"order_id": o.order_id, "provider_id": o.provider_id, "service_type": o.service_type,
                    "status": o.status, "unit": o.unit, "rate_pence": o.rate_pence,
                    "planned_units_per_week": o.planned_units_per_week, "payment_basis": o.payment_basis,
                    "start_date": _iso(o.start_date), "end_date": _iso(o.end_date), "commitment_pence": o.commitment}
                   for o in sorted(budget.orders.values(), key=lambda o: o.order_id)],
        "ended_on": _iso(budget.ended_on),
        "died_on": _iso(budget.died_on),
        "events_applied": budget.version,
    }
