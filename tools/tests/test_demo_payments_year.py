"""The demo's payments year without I/O: the generator's year becomes the payments service's commands
(schedules gross of the contribution, invoices as received), the bank statement says what it should,
and the bad payments input is really bad in the way its expected outcome says."""
from collections import Counter
from datetime import date, timedelta

import orjson
import pytest
from careruntime.codec import DecodeError, decode
from careschemas import invoice_commands as icmd
from careschemas import payments_commands as pcmd
from caretools.badinput import PAYMENTS_DEAD_LETTERS, PAYMENTS_MISTAKES, bad_commands, resent_payment_events
from caretools.bank_sim import camt053
from caretools.demo import MID_YEAR_DECISIONS, _is_mid_year, decisions_known_by
from caretools.demo_payments_year import CYCLES, year_commands
from caretools.generator import YEAR_END, generate
from payments.formats import parse_camt

COUNCIL = "E10000099"


@pytest.fixture(scope="module")
def year():
    return generate(people=150, seed=1, council_id=COUNCIL, allocation="commands")


def _data(m):
    return orjson.loads(m.value)["data"]


def test_every_dp_schedule_becomes_a_gross_schedule_command(year):
    schedules, _ = year_commands(year)
    events = {d["schedule_id"]: d for d in (_data(m) for m in year if b"DirectPaymentScheduled" in m.value)}
    routes = {d["budget_id"]: d["amount_pence"] for d in (_data(m) for m in year if b"AllocateDeliveryRoute" in m.value)}
    assert {c.schedule_id for _, c in schedules} == set(events) and len(schedules) == len(events) > 10
    for cid, c in schedules:
        assert isinstance(c, pcmd.ScheduleDirectPayment) and cid == f"sched-{c.schedule_id}"
        ev = events[c.schedule_id]
        assert c.amount_pence == routes[c.budget_id] * 4 // 52  # the service nets the contribution itself
        assert c.amount_pence >= ev["amount_pence"]  # the generator's event is net of it
        assert (c.first_due_date.isoformat(), c.contribution_mode) == (ev["first_due_date"], ev["contribution_mode"])


def test_every_invoice_is_received_once_in_date_order_and_all_arrive_within_the_cycles(year):
    _, invoices = year_commands(year)
    received = [_data(m) for m in year if b"invoices.InvoiceReceived" in m.value]
    assert [c.invoice_id for _, _, c in invoices] == [d["invoice_id"] for d in received]
    assert all(isinstance(c, icmd.ReceiveInvoice) and cid == f"recv-{c.invoice_id}" for _, cid, c in invoices)
    last_cycle = date(2026, 4, 1).toordinal() + 28 * (CYCLES - 1) - 1
    assert max(day for day, _, _ in invoices).toordinal() <= last_cycle  # the last cycle takes the last invoice
    assert last_cycle - 28 < YEAR_END.toordinal() < last_cycle  # the last one comes after the year's end


def test_mid_year_decisions_are_the_changes_and_never_set_up_commands(year):
    commands = [m for m in year if m.topic == "allocation.commands.v1"]
    later = Counter(orjson.loads(m.value)["type"] for m in commands if _is_mid_year(m))
    assert set(later) <= {t.decode().strip('"') for t in MID_YEAR_DECISIONS}
    assert later["allocation.RecordDeath.v1"] >= 1 and later["allocation.VaryServiceOrder.v1"] >= 1
    assert not any(_is_mid_year(m) for m in commands if b"AgreePersonalBudget" in m.value
                   or b"CommissionServiceOrder" in m.value)


def test_bad_payments_commands_are_undecodable_or_refusable_as_expected(year):
    bad = [m for m in bad_commands(year, COUNCIL) if m.topic == "payments.commands.v1"]
    dead, decoded = Counter(), []
    for m in bad:
        try:
            decoded.append(decode(m.value))
        except DecodeError as exc:
            dead[exc.code] += 1
    assert dead == PAYMENTS_DEAD_LETTERS
    ids = Counter(d.envelope.id for d in decoded)
    first = next(_data(m) for m in year if b"invoices.InvoiceReceived" in m.value)
    resend = f"recv-{first['invoice_id']}"
    assert ids == {"mistake-invoice-number-again": 1, "mistake-invoice-after-end": 1, resend: 2}
    same_id = [d for d in decoded if d.envelope.id == resend]
    sent_by_the_demo = {cid: c for _, cid, c in year_commands(year)[1]}[resend]
    assert same_id[0].payload == sent_by_the_demo  # the exact resend
    assert same_id[1].payload.lines[0].units == same_id[0].payload.lines[0].units + 1  # the changed one
    again = next(d for d in decoded if d.envelope.id == "mistake-invoice-number-again").payload
    assert (again.provider_id, again.invoice_number) == (first["provider_id"], first["invoice_number"])
    after = next(d for d in decoded if d.envelope.id == "mistake-invoice-after-end").payload
    closed = {d["budget_id"]: d.get("date_of_death") or d.get("end_date") for d in
              (_data(m) for m in year if b"RecordDeath" in m.value or b"EndPersonalBudget" in m.value)}
    assert after.lines[0].period_start > date.fromisoformat(closed[after.lines[0].budget_id])
    assert set(PAYMENTS_MISTAKES) == {"mistake-invoice-number-again", "mistake-invoice-changed",
                                      "mistake-invoice-after-end"}


def test_resent_payment_events_are_ten_exact_copies_and_five_settlements_a_penny_more(year):
    events = [(m.key, m.value) for m in year if m.topic == "payments.events.v1"]
    resent = resent_payment_events(events)
    assert len(resent) == 15 and all(r in events for r in resent[:10])
    originals = {decode(v).envelope.id: decode(v).payload.amount_pence for _, v in events if b"PaymentSettled" in v}
    for key, value in resent[10:]:
        d = decode(value)
        assert d.envelope.type == "payments.PaymentSettled.v1"
        assert d.payload.amount_pence == originals[d.envelope.id] + 1


def test_the_bank_statement_settles_returns_and_adds_a_line_not_ours():
    xml = camt053("STMT-1", "GB33BUKB20201555555555", date(2026, 5, 1), [("E1", 1000), ("E2", 250)],
                  [("E3", 99, "AC04")], foreign=[("E-NOT-OURS-0", 12_345)])
    statement = parse_camt(xml)
    assert sorted((e.end_to_end_id, e.amount_pence, e.credit, e.return_reason) for e in statement.entries) == [
        ("E-NOT-OURS-0", 12_345, False, None), ("E1", 1000, False, None), ("E2", 250, False, None),
        ("E3", 99, True, "AC04")]


def test_a_cycle_sends_what_is_dated_by_then_and_closures_of_the_coming_weeks_with_their_budget(year):
    later = sorted((m for m in year if m.topic == "allocation.commands.v1" and _is_mid_year(m)), key=lambda m: m.at)
    death = next(m for m in later if b"RecordDeath" in m.value)
    day = death.at.date() - timedelta(days=10)
    sent = decisions_known_by(later, day)
    assert death in sent  # a death within the coming four weeks: the DP run must know it
    closing = {m.key for m in later if m.at.date() <= day + timedelta(days=28) and (
        b"RecordDeath" in m.value or b"EndPersonalBudget" in m.value or b"EndServiceOrder" in m.value)}
    assert all(m.at.date() <= day or m.key in closing for m in sent)
    waiting = [m for m in later if m not in sent and m.at.date() <= day + timedelta(days=28)]
    assert all(b"RecordDeath" not in m.value and b"EndPersonalBudget" not in m.value and b"EndServiceOrder"
               not in m.value for m in waiting)
    assert any(b"VaryServiceOrder" in m.value or b"RevisePersonalBudget" in m.value for m in later
               if m.at.date() > day and m not in sent)  # a variation waits for its date
