"""Bad input through the real broker and database: every record on the commands topic that is not a
valid allocation command, however it is broken, ends as a dead letter (reason in its headers, bytes
unchanged) or as a coded rejection, and never stops the partition it arrived on: a good command sent
after it on the same key is still decided.

Beyond the shapes `test_allocation_flow.py` sends, this covers records that pass the wire contract but
that this service cannot store or price (pence beyond a bigint, a NUL character in free text, a date
on the calendar's edge): before
the fix in `allocation.adapters.storable` each of them rolled its batch back and was retried for ever,
stalling every command behind it.
"""
from __future__ import annotations

from datetime import date

import orjson
import pytest
from careruntime.codec import decode, encode
from careschemas.examples import example_payload
from careschemas.registry import make_envelope, payload_model

from .test_allocation_flow import COUNCIL, T0, allocation, command, read_all, send  # noqa: F401

pytestmark = pytest.mark.integration

AGREE = {"person_ref": "P-1", "amount_pence": 1_000_000, "start_date": date(2026, 4, 1),
         "end_date": date(2027, 3, 31)}


def raw(command_id: str, short: str, data: dict, key: str) -> tuple[bytes, bytes]:
    """A command envelope whose data is sent as given, without validating it first."""
    doc = {"specversion": "1.0", "id": command_id, "source": "urn:case-system:test",
           "type": f"allocation.{short}.v1", "subject": key, "councilid": COUNCIL,
           "correlationid": f"conv-{command_id}", "time": T0.isoformat(), "datacontenttype": "application/json",
           "data": {"effective_date": "2026-04-01", **data}}
    return key.encode(), orjson.dumps(doc)


def agree_data(budget_id: str, **fields) -> dict:
    return {"budget_id": budget_id, **{k: v.isoformat() if isinstance(v, date) else v for k, v in AGREE.items()},
            **fields}


def payments_command() -> tuple[bytes, bytes]:
    """A valid command of another family, sent to the allocation commands topic by mistake."""
    model = payload_model("payments.SuspendDirectPayment.v1")
    payload = model.model_validate(example_payload(model.TYPE))
    env = make_envelope(payload, id="c-foreign", source="urn:test", subject="PB-F", council_id=COUNCIL,
                        correlation_id="conv-foreign", time=T0)
    return b"PB-F", encode(env)


# label -> (the bad record, the dead-letter reason it must get)
BAD = {
    "tombstone": ((b"PB-T", None), "MALFORMED_JSON"),
    "empty value": ((b"PB-E", b""), "MALFORMED_JSON"),
    "not UTF-8": ((b"PB-U", b"\xff\xfe{}"), "MALFORMED_JSON"),
    "a JSON array": ((b"PB-A", b"[1, 2]"), "MALFORMED_JSON"),
    "data is a string": ((b"PB-S", orjson.dumps({**orjson.loads(raw("c-str", "AgreePersonalBudget", {}, "PB-S")[1]),
                                                 "data": "agree"})), "INVALID_ENVELOPE"),
    "unknown field": (raw("c-extra", "AgreePersonalBudget", agree_data("PB-X", bonus_pence=1), "PB-X"),
                      "INVALID_PAYLOAD"),
    "pence as a bool": (raw("c-bool", "AgreePersonalBudget", agree_data("PB-B", amount_pence=True), "PB-B"),
                        "INVALID_PAYLOAD"),
    "pence as a float": (raw("c-float", "AgreePersonalBudget", agree_data("PB-F1", amount_pence=10.5), "PB-F1"),
                         "INVALID_PAYLOAD"),
    "a timestamp for a date": (raw("c-ts", "AgreePersonalBudget",
                                   agree_data("PB-D", start_date="2026-04-01T00:00:00Z"), "PB-D"), "INVALID_PAYLOAD"),
    "end before start": (raw("c-dates", "AgreePersonalBudget", agree_data("PB-R", end_date="2026-03-01"), "PB-R"),
                         "INVALID_PAYLOAD"),
    "another family's command": (payments_command(), "UNKNOWN_TYPE"),
    # Valid by the wire contract, but not storable or priceable: these stalled the worker before the fix
    # (the 9999-12-31 budget only once an order on it was varied or ended).
    "pence beyond a bigint": (raw("c-huge", "AgreePersonalBudget", agree_data("PB-H", amount_pence=2**63), "PB-H"),
                              "INVALID_PAYLOAD"),
    "NUL in a variance reason": (raw("c-nul-reason", "AgreePersonalBudget",
                                     agree_data("PB-N", variance_reason="Night\x00care"), "PB-N"), "INVALID_PAYLOAD"),
    "open-ended as 9999-12-31": (raw("c-max-date", "AgreePersonalBudget", agree_data("PB-M", end_date="9999-12-31"),
                                     "PB-M"), "INVALID_PAYLOAD"),
    "NUL in a provider name": (raw("c-nul-name", "RegisterProvider",
                                   {"provider_id": "PR-N", "name": "Bad\x00Name", "provider_type": "private"}, "PR-N"),
                               "INVALID_PAYLOAD"),
}


def followers() -> list[tuple[bytes, bytes]]:
    """A good command on the key of every bad record: each must still be decided."""
    out = []
    for n, ((key, _), _) in enumerate(BAD.values()):
        key = key.decode()
        if key.startswith("PR-"):
            out.append(command("RegisterProvider", f"good-{n}", provider_id=key, name="Good Name",
                               provider_type="charity"))
        else:
            out.append(command("AgreePersonalBudget", f"good-{n}", budget_id=key, **AGREE))
    return out


async def test_every_bad_record_is_dead_lettered_and_the_commands_behind_it_are_still_decided(allocation):  # noqa: F811
    settings, pool, start = allocation
    service = start()
    bad = [record for record, _ in BAD.values()]
    good = followers()
    await send(settings.kafka_bootstrap, settings.commands_topic, [*bad, *good])
    await service.drained()  # fails after 60 s if a record stalls its partition
    assert not any(t.done() for t in service.tasks), "a bad record stopped the worker or the relay"

    outcomes = {r["command_id"]: (r["outcome"], r["reason_code"]) for r in await pool.fetch(
        "SELECT command_id, outcome, reason_code FROM processed_commands")}
    assert outcomes == {f"good-{n}": ("accepted", None) for n in range(len(good))}
    published = {decode(r.value).envelope.id for r in await read_all(settings.kafka_bootstrap, settings.events_topic)}
    assert published == {f"good-{n}.e1" for n in range(len(good))}

    dead = await read_all(settings.kafka_bootstrap, settings.commands_topic + ".dlq")
    by_value = {r.value: dict(r.headers)["dlq.reason"].decode() for r in dead}
    assert len(dead) == len(BAD)
    for label, ((_, value), reason) in BAD.items():
        assert by_value.get(value) == reason, label
