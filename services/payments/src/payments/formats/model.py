"""Value types of bank files: what goes out (payment batches) and what comes back (statements).

These are plain frozen dataclasses with no behaviour beyond simple derived values, so the service
layer can build them from its own domain objects and the renderers/parsers stay pure.
Money is integer pence throughout; bank details live only here and in the council's bank
directory, never in events (DOMAIN.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True)
class Originator:
    """The council's paying account and its Bacs/SEPA identities."""

    name: str
    sort_code: str
    account_number: str
    service_user_number: str
    iban: str
    bic: str


@dataclass(frozen=True)
class PayeeAccount:
    """A payee's bank account, resolved from an opaque account_ref by the BankDirectory."""

    account_ref: str
    name: str
    sort_code: str
    account_number: str
    iban: str | None = None
    bic: str | None = None


@dataclass(frozen=True)
class Instruction:
    """One credit transfer in a payment file."""

    payment_id: str
    end_to_end_id: str
    amount_pence: int
    payee: PayeeAccount
    reference: str


@dataclass(frozen=True)
class FileBatch:
    """A payment run ready to be rendered as a bank file."""

    run_id: str
    council_id: str
    created_at: datetime
    processing_date: date
    originator: Originator
    instructions: tuple[Instruction, ...]
    # Bacs VOL1/HDR1 submission serial (6 characters, unique per service user per day). When None
    # it is derived from run_id, which is stable but not guaranteed unique: set it if the bureau checks.
    submission_serial: str | None = None

    @property
    def total_pence(self) -> int:
        return sum(instruction.amount_pence for instruction in self.instructions)


@dataclass(frozen=True)
class StatementEntry:
    """One booked (or pending) movement on a bank statement, at transaction level.

    A batch-booked entry with several transactions becomes several StatementEntry values whose
    entry_ref is the entry's reference plus a "/n" suffix, so entry_ref is unique per statement.
    `credit` is True for money in (CRDT), False for money out (DBIT). `status` is the ISO code
    (BOOK, PDNG, INFO). `return_reason` is the ISO return reason code (RtrInf/Rsn/Cd, e.g. AC04)
    when the bank reports the transaction as a return.
    """

    entry_ref: str
    end_to_end_id: str | None
    amount_pence: int
    credit: bool
    booked_on: date
    status: str
    return_reason: str | None
    currency: str = "GBP"
    bank_reference: str | None = None

    @property
    def is_booked(self) -> bool:
        return self.status == "BOOK"


@dataclass(frozen=True)
class Statement:
    """A parsed camt.053 statement or camt.054 notification."""

    statement_id: str
    account_iban: str | None
    entries: tuple[StatementEntry, ...]
    message_type: str = "camt.053"
    account_number: str | None = None


@dataclass(frozen=True)
class SettledPayment:
    """A debit on the statement that matches an instructed payment exactly."""

    payment_id: str
    end_to_end_id: str
    amount_pence: int
    booked_on: date
    entry_ref: str


@dataclass(frozen=True)
class ReturnedPayment:
    """A payment the payee's bank sent back, with the ISO return reason code."""

    payment_id: str
    end_to_end_id: str
    amount_pence: int
    booked_on: date
    entry_ref: str
    reason_code: str


@dataclass(frozen=True)
class Reconciliation:
    """The outcome of matching a statement against the payments a run instructed.

    `unmatched` holds the statement entries that could not be attributed to a payment;
    `unmatched_reasons` maps each of their entry_ref values to a reason code from
    payments.formats.reasons (for example "amount_mismatch" or "unknown_end_to_end_id").
    """

    settled: tuple[SettledPayment, ...]
    returned: tuple[ReturnedPayment, ...]
    unmatched: tuple[StatementEntry, ...]
    unmatched_reasons: Mapping[str, str] = field(default_factory=dict)

    def reason_for(self, entry: StatementEntry) -> str:
        return self.unmatched_reasons[entry.entry_ref]
