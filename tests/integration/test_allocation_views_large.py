"""A budget whose view entry outgrows a Kafka record: the views keep each budget, with all its orders, as
one table value, written to the changelog as one record (faust's producer sends at most 1,000,000 bytes).

Before `views.VALUE_MAX`, a budget with 1,300 orders (ids and service type at their longest: valid, and
accepted by the allocation service) crashed the views process (faust ProducerSendError:
MessageSizeTooLargeError, "The message is 1000012 bytes when serialized"), and it crashed again on every
start at the same record. Now that budget is answered 507 and every other budget is still served."""
from __future__ import annotations

import asyncio
from datetime import date

import pytest
from careruntime.topics import delete_topics

from .test_allocation_flow import COUNCIL, allocation, command, send  # noqa: F401
from .test_allocation_views import views_of

pytestmark = [pytest.mark.integration, pytest.mark.slow]

BUDGET_ID = "B" * 128
PROVIDER_ID = "R" * 128
ORDERS = 1_300  # with ids and service type at their longest, ~890 bytes each in the view's JSON


def order(n: int) -> tuple[bytes, bytes]:
    return command("CommissionServiceOrder", f"c-o{n}", order_id=f"{n:0>128}", budget_id=BUDGET_ID,
                   provider_id=PROVIDER_ID, service_type="\N{GRINNING FACE}" * 64, unit="hour", rate_pence=1,
                   planned_units_per_week=1, payment_basis="planned", start_date=date(2026, 4, 1),
                   end_date=date(2026, 4, 1))


async def test_a_budget_with_many_orders_is_still_served(allocation, tmp_path):  # noqa: F811
    settings, pool, start = allocation
    service = start()
    await send(settings.kafka_bootstrap, settings.commands_topic, [
        command("RegisterProvider", "c-prov", provider_id=PROVIDER_ID, name="Provider", provider_type="private"),
        command("AgreePersonalBudget", "c-agree", budget_id=BUDGET_ID, person_ref="P-1", amount_pence=1_000_000,
                start_date=date(2026, 4, 1), end_date=date(2027, 3, 31), variance_reason="x")])
    await service.drained()
    await send(settings.kafka_bootstrap, settings.commands_topic, [
        *(order(n) for n in range(ORDERS)),
        command("AgreePersonalBudget", "c-later", budget_id="PB-LATER", person_ref="P-2", amount_pence=1_000,
                start_date=date(2026, 4, 1), end_date=date(2027, 3, 31))])
    await service.drained()
    accepted = await pool.fetchval("SELECT count(*) FROM service_orders")
    assert accepted == ORDERS

    views, app_id = views_of(settings, tmp_path)
    try:
        views.start()
        later = await views.summary_when(f"/budgets/{COUNCIL}/PB-LATER", lambda b: b["status"] == "agreed",
                                         timeout_s=180)
        assert later["agreed_pence"] == 1_000
        deadline = asyncio.get_running_loop().time() + 180
        while views.proc.poll() is None and (answer := await views.get(f"/budgets/{COUNCIL}/{BUDGET_ID}"))[0] != 507:
            assert asyncio.get_running_loop().time() < deadline, answer[0]
            await asyncio.sleep(0.5)
        assert views.proc.poll() is None, views.log_tail()
        assert "outgrew this view" in answer[1]["error"]
        await asyncio.sleep(2)  # the changelog write of the outgrown entry, had it been too large, crashes it
        assert views.proc.poll() is None, views.log_tail()
    finally:
        views.stop()
        await delete_topics(settings.kafka_bootstrap, [f"{app_id}-budget_summaries-changelog",
                                                       f"{app_id}-__assignor-__leader"])
