"""Bank files for payment runs: Bacs Standard 18 and ISO 20022 pain.001 out, camt.053/054 in.

Pure code (no Kafka, no database). The service layer builds a FileBatch from its payment run,
renders it with render_bacs18 or render_pain001, records file_sha256 of the bytes, and later
feeds parse_camt's Statement to reconcile. Payee bank details come from a BankDirectory loaded
from the council's CSV, never from events.
"""

from payments.formats.bacs18 import render_bacs18
from payments.formats.camt import parse_camt, parse_camt_all
from payments.formats.digest import file_sha256
from payments.formats.directory import BankDirectory
from payments.formats.errors import (
    BankDirectoryInvalid,
    PaymentFileError,
    PaymentFileInvalid,
    StatementError,
    UnknownAccountRef,
)
from payments.formats.model import (
    FileBatch,
    Instruction,
    Originator,
    PayeeAccount,
    Reconciliation,
    ReturnedPayment,
    SettledPayment,
    Statement,
    StatementEntry,
)
from payments.formats.pain001 import PAIN_001_001_03, PAIN_001_001_09, render_pain001
from payments.formats.reconcile import reconcile

__all__ = [
    "PAIN_001_001_03",
    "PAIN_001_001_09",
    "BankDirectory",
    "BankDirectoryInvalid",
    "FileBatch",
    "Instruction",
    "Originator",
    "PayeeAccount",
    "PaymentFileError",
    "PaymentFileInvalid",
    "Reconciliation",
    "ReturnedPayment",
    "SettledPayment",
    "Statement",
    "StatementEntry",
    "StatementError",
    "UnknownAccountRef",
    "file_sha256",
    "parse_camt",
    "parse_camt_all",
    "reconcile",
    "render_bacs18",
    "render_pain001",
]
