"""A council policy row written by hand that is not valid (the `policy` command would have refused it),
against the real broker and PostgreSQL: that council's commands get a coded POLICY_INVALID rejection,
other councils' commands in the same batches go on, nothing stalls, and once the row is fixed the
council's commands are decided again."""
from __future__ import annotations

from datetime import date

from careruntime.codec import decode, encode
from careschemas.registry import make_envelope, payload_model
from careschemas.topics import message_key

from .test_allocation_flow import COUNCIL, T0, allocation, read_all, send  # noqa: F401

BAD_COUNCIL = "E06000001"


def agree(council: str, command_id: str, budget_id: str) -> tuple[bytes, bytes]:
    payload = payload_model("allocation.AgreePersonalBudget.v1").model_validate(
        {"budget_id": budget_id, "person_ref": f"P-{budget_id}", "amount_pence": 1_000_000,
         "start_date": date(2026, 4, 1), "end_date": date(2027, 3, 31), "effective_date": date(2026, 4, 1)})
    key = message_key(payload)
    env = make_envelope(payload, id=command_id, source="urn:case-system:test", subject=key, council_id=council,
                        correlation_id=f"conv-{command_id}", time=T0)
    return key.encode(), encode(env)


async def outcomes(settings) -> dict[str, tuple[str, str | None, str | None]]:
    """Per command id: (event type, reason code, detail) of what the service published."""
    found = {}
    for record in await read_all(settings.kafka_bootstrap, settings.events_topic):
        decoded = decode(record.value)
        data = decoded.envelope.data
        command_id = data.get("command_id") or decoded.envelope.causationid
        found[command_id] = (decoded.envelope.type, data.get("reason_code"), data.get("detail"))
    return found


async def test_a_council_with_a_policy_row_that_is_not_valid_is_refused_with_a_code_and_others_go_on(allocation):  # noqa: F811
    settings, pool, start = allocation
    await pool.execute("INSERT INTO council_policies (council_id, settings) VALUES ($1, $2::jsonb)",
                       BAD_COUNCIL, '{"variance_tolerance_bp": 20000}')  # out of range: `policy` refuses it
    service = start()
    await send(settings.kafka_bootstrap, settings.commands_topic,
               [agree(BAD_COUNCIL, "bad-1", "PB-B1"), agree(COUNCIL, "good-1", "PB-G1"),
                agree(BAD_COUNCIL, "bad-2", "PB-B2"), agree(COUNCIL, "good-2", "PB-G2")])
    await service.drained()
    found = await outcomes(settings)
    for command_id in ("good-1", "good-2"):
        assert found[command_id][0] == "allocation.PersonalBudgetAgreed.v1", found
    for command_id in ("bad-1", "bad-2"):
        kind, code, detail = found[command_id]
        assert (kind, code) == ("allocation.CommandRejected.v1", "POLICY_INVALID"), found
        assert "variance_tolerance_bp" in detail
    assert await pool.fetchval("SELECT count(*) FROM budgets WHERE council_id = $1", BAD_COUNCIL) == 0
    rows = await pool.fetch("SELECT command_id, outcome, reason_code FROM processed_commands WHERE command_id LIKE 'bad-%'")
    assert sorted((r["command_id"], r["reason_code"]) for r in rows) == [("bad-1", "POLICY_INVALID"),
                                                                         ("bad-2", "POLICY_INVALID")]

    # Fixed (as `policy` would store it): the council's next commands are decided as usual.
    await pool.execute("UPDATE council_policies SET settings = '{\"variance_tolerance_bp\": 500}' WHERE council_id = $1",
                       BAD_COUNCIL)
    await send(settings.kafka_bootstrap, settings.commands_topic, [agree(BAD_COUNCIL, "bad-3", "PB-B1")])
    await service.drained()
    assert (await outcomes(settings))["bad-3"][0] == "allocation.PersonalBudgetAgreed.v1"
