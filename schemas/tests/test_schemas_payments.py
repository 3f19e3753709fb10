"""Payments events and commands: schedules, instructions, runs, files, settlement, returns, recovery."""
from __future__ import annotations

import pytest

from schemas_testkit import DROP, invalid, valid

SCHEDULED = "payments.DirectPaymentScheduled.v1"
INSTRUCTED = "payments.PaymentInstructed.v1"


@pytest.mark.parametrize("type_name", [SCHEDULED, "payments.ScheduleDirectPayment.v1"])
def test_schedule_frequency_and_dates(type_name):
    # The command may leave the frequency to the council's policy; the event always states it.
    assert valid(type_name, frequency_weeks=DROP).frequency_weeks == (4 if type_name == SCHEDULED else None)
    assert valid(type_name, frequency_weeks=1).frequency_weeks == 1
    assert valid(type_name, frequency_weeks=52).frequency_weeks == 52
    for bad in (0, 53, 4.0, "4"):
        invalid(type_name, frequency_weeks=bad)
    invalid(type_name, amount_pence=0)
    invalid(type_name, first_due_date="2025-04-07", end_date="2025-04-06")
    invalid(type_name, contribution_mode="partial")


def test_direct_payment_instruction_needs_a_budget():
    assert valid(INSTRUCTED, kind="direct_payment").budget_id == "PB-0001"
    invalid(INSTRUCTED, kind="direct_payment", budget_id=None)
    invalid(INSTRUCTED, kind="one_off", budget_id=DROP)


def test_invoice_instruction_needs_a_provider_not_a_budget():
    paid = valid(INSTRUCTED, kind="invoice", budget_id=None, provider_id="PRV-0042", invoice_id="INV-0001")
    assert paid.provider_id == "PRV-0042" and paid.budget_id is None
    invalid(INSTRUCTED, kind="invoice", budget_id="PB-0001", provider_id=None)


def test_instruction_amount_and_kind():
    invalid(INSTRUCTED, amount_pence=0)
    invalid(INSTRUCTED, amount_pence=1300.00)
    invalid(INSTRUCTED, kind="cheque")
    assert valid(INSTRUCTED, run_id=None).run_id is None


def test_runs_and_files():
    assert valid("payments.PaymentRunCreated.v1", payment_count=0, total_pence=0).payment_count == 0
    invalid("payments.PaymentRunCreated.v1", payment_count=-1)
    invalid("payments.PaymentRunCreated.v1", created_by=DROP)
    invalid("payments.PaymentRunApproved.v1", approved_by="")
    assert valid("payments.PaymentFileGenerated.v1", file_format="pain001").file_format == "pain001"
    invalid("payments.PaymentFileGenerated.v1", file_format="csv")
    invalid("payments.PaymentFileGenerated.v1", sha256="9C" * 32)
    invalid("payments.PaymentFileGenerated.v1", sha256="9c" * 31)
    invalid("payments.PaymentFileGenerated.v1", file_name="../etc/passwd")
    invalid("payments.CreatePaymentRun.v1", due_on=DROP)
    invalid("payments.GeneratePaymentFile.v1", file_format="bacs")


@pytest.mark.parametrize("type_name", ["payments.PaymentSettled.v1", "payments.RecordSettlement.v1",
                                       "payments.PaymentReturned.v1", "payments.RecordReturn.v1"])
def test_settlement_and_return_amounts(type_name):
    invalid(type_name, amount_pence=0)
    invalid(type_name, amount_pence=-130_000)
    invalid(type_name, payment_id=DROP)


def test_settlement_may_carry_the_instruction_key():
    settled = valid("payments.PaymentSettled.v1", bank_ref=None)
    assert settled.budget_id == "PB-0001" and settled.bank_ref is None
    assert valid("payments.PaymentSettled.v1", budget_id=None, provider_id=None).budget_id is None


def test_surplus_recovery():
    assert valid("payments.SurplusRecoveryRaised.v1", method="invoice").method == "invoice"
    invalid("payments.SurplusRecoveryRaised.v1", method="clawback")
    invalid("payments.SurplusRecoveryRaised.v1", weeks_in_credit=-1)
    invalid("payments.SurplusRecovered.v1", amount_pence=0)
    invalid("payments.RaiseSurplusRecovery.v1", amount_pence=0)


def test_suspend_resume_and_one_off():
    invalid("payments.DirectPaymentSuspended.v1", reason=" ")
    invalid("payments.DirectPaymentResumed.v1", schedule_id=DROP)
    invalid("payments.OneOffPaymentMade.v1", amount_pence=0)
    invalid("payments.MakeOneOffPayment.v1", budget_id=DROP)
