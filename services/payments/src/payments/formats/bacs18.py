"""Bacs Standard 18 direct-credit file for a payment run (single processing day).

Layout (positions 1-based; see docs/payment-files.md for every field and its source):
  VOL1, HDR1, HDR2, UHL1   80-character label records
  one standard record      100 characters per instruction, transaction code 99 (direct credit)
  one contra record        100 characters, transaction code 17, debiting the council's account
  EOF1, EOF2, UTL1         80-character trailer labels; UTL1 carries value totals and item counts
Records are ASCII and each ends with CRLF. Amounts are pence, zero-padded: 11 digits per item,
13 digits in UTL1. Names and references are upper-cased into the Bacs character set and cut to 18.
"""

from __future__ import annotations

import hashlib
from datetime import date

from payments.formats.errors import PaymentFileInvalid
from payments.formats.model import FileBatch, Instruction, Originator
from payments.formats.validation import (
    BLANK_NAME,
    BLANK_REFERENCE,
    INVALID_ACCOUNT_NUMBER,
    INVALID_SERVICE_USER_NUMBER,
    INVALID_SORT_CODE,
    TOTAL_TOO_LARGE,
    bacs_text,
    require_digits,
    require_instructions,
    require_positive_pence,
    require_text,
)

DIRECT_CREDIT = "99"
CONTRA_DEBIT = "17"
MAX_ITEM_PENCE = 99_999_999_999  # 11 digits: £999,999,999.99
MAX_TOTAL_PENCE = 9_999_999_999_999  # 13 digits in UTL1
LABEL_WIDTH = 80
DATA_WIDTH = 100
RECORD_END = "\r\n"


def render_bacs18(batch: FileBatch) -> bytes:
    """Render the batch as a Bacs Standard 18 file, or raise PaymentFileInvalid with a code."""
    require_instructions(batch)
    origin = _OriginFields.of(batch.originator)
    serial = _submission_serial(batch)
    records = [
        _vol1(serial, origin.sun),
        _hdr1("HDR1", serial, origin.sun, batch.created_at.date()),
        _hdr2("HDR2"),
        _uhl1(batch.processing_date),
    ]
    total = 0
    for instruction in batch.instructions:
        records.append(_standard_record(instruction, origin))
        total += instruction.amount_pence
    if total > MAX_ITEM_PENCE:
        raise PaymentFileInvalid(TOTAL_TOO_LARGE, f"run {batch.run_id}: contra total {total} exceeds 11 digits")
    records.append(_contra_record(total, origin, batch.run_id))
    records += [
        _hdr1("EOF1", serial, origin.sun, batch.created_at.date()),
        _hdr2("EOF2"),
        _utl1(debit_total=total, credit_total=total, debit_count=1, credit_count=len(batch.instructions)),
    ]
    return RECORD_END.join(records).encode("ascii") + RECORD_END.encode("ascii")


class _OriginFields:
    """The originator's fields, validated once and pre-formatted for every record."""

    __slots__ = ("account_number", "name", "sort_code", "sun")

    def __init__(self, sun: str, sort_code: str, account_number: str, name: str) -> None:
        self.sun = sun
        self.sort_code = sort_code
        self.account_number = account_number
        self.name = name

    @classmethod
    def of(cls, originator: Originator) -> _OriginFields:
        return cls(
            sun=require_digits(originator.service_user_number, 6, INVALID_SERVICE_USER_NUMBER, "service user number"),
            sort_code=require_digits(originator.sort_code, 6, INVALID_SORT_CODE, "originator sort code"),
            account_number=require_digits(
                originator.account_number, 8, INVALID_ACCOUNT_NUMBER, "originator account number"
            ),
            name=require_text(originator.name, 18, BLANK_NAME, "originator name"),
        )


def _submission_serial(batch: FileBatch) -> str:
    if batch.submission_serial is not None:
        serial = batch.submission_serial
        if len(serial) != 6 or not serial.isascii() or not serial.isalnum() or set(serial) == {"0"}:
            raise PaymentFileInvalid(
                "invalid_submission_serial", f"submission serial must be 6 letters/digits, not all zeros: {serial!r}"
            )
        return serial.upper()
    derived = int(hashlib.sha256(batch.run_id.encode("utf-8")).hexdigest(), 16) % 999_999 + 1
    return f"{derived:06d}"


def _julian(day: date) -> str:
    """Bacs date: a space, two-digit year and three-digit day of the year (" 26331")."""
    return f" {day:%y}{day.timetuple().tm_yday:03d}"


def _vol1(serial: str, sun: str) -> str:
    # 1-4 VOL1, 5-10 serial, 11 accessibility, 12-31 and 32-37 reserved, 38-41 blank,
    # 42-47 owner (service user number), 48-51 blank, 52-79 reserved, 80 label standard "1".
    return _label(f"VOL1{serial} {' ' * 20}{' ' * 6}{' ' * 4}{sun}{' ' * 4}{' ' * 28}1")


def _hdr1(label: str, serial: str, sun: str, created: date) -> str:
    # 5-21 file identifier "A" + SUN + "S" + 2 blanks + "1" + SUN; 22-27 set id (serial);
    # 28-31 section 0001; 32-35 sequence 0001; 36-41 generation blank; 42-47 creation;
    # 48-53 expiration (= creation); 54 accessibility; 55-60 block count 000000; 61-80 blank.
    file_id = f"A{sun}S  1{sun}"
    stamp = _julian(created)
    return _label(f"{label}{file_id}{serial}00010001{' ' * 6}{stamp}{stamp} 000000{' ' * 20}")


def _hdr2(label: str) -> str:
    # 5 record format F; 6-10 block length 02000; 11-15 record length 00100; 16-50 reserved;
    # 51-52 buffer offset 00; 53-80 reserved.
    return _label(f"{label}F0200000100{' ' * 35}00")


def _uhl1(processing_date: date) -> str:
    # 5-10 processing day; 11-20 receiving party 999999; 21-22 currency 00; 23-28 country 000000;
    # 29-37 work code "1 DAILY  "; 38-40 file number 001; 41-80 reserved/audit print blank.
    return _label(f"UHL1{_julian(processing_date)}999999    00000000{'1 DAILY  '}001")


def _standard_record(instruction: Instruction, origin: _OriginFields) -> str:
    payee = instruction.payee
    sort_code = require_digits(payee.sort_code, 6, INVALID_SORT_CODE, f"payee {payee.account_ref} sort code")
    account = require_digits(
        payee.account_number, 8, INVALID_ACCOUNT_NUMBER, f"payee {payee.account_ref} account number"
    )
    amount = require_positive_pence(instruction, MAX_ITEM_PENCE)
    reference = require_text(instruction.reference, 18, BLANK_REFERENCE, f"payment {instruction.payment_id} reference")
    name = require_text(payee.name, 18, BLANK_NAME, f"payee {payee.account_ref} name")
    # 1-6 destination sort code; 7-14 account; 15 account type 0; 16-17 transaction code;
    # 18-23 originating sort code; 24-31 originating account; 32-35 free format (blank);
    # 36-46 amount in pence; 47-64 service user's name; 65-82 reference; 83-100 destination name.
    return (
        f"{sort_code}{account}0{DIRECT_CREDIT}{origin.sort_code}{origin.account_number}    "
        f"{amount:011d}{origin.name}{reference}{name}"
    )


def _contra_record(total: int, origin: _OriginFields, run_id: str) -> str:
    # The balancing debit of the council's own account: 47-64 narrative, 65-82 "CONTRA",
    # 83-100 the account name.
    narrative = bacs_text(run_id, 18)
    own = f"{origin.sort_code}{origin.account_number}"
    return f"{own}0{CONTRA_DEBIT}{own}    {total:011d}{narrative}{'CONTRA':<18}{origin.name}"


def _utl1(debit_total: int, credit_total: int, debit_count: int, credit_count: int) -> str:
    if max(debit_total, credit_total) > MAX_TOTAL_PENCE:
        raise PaymentFileInvalid(TOTAL_TOO_LARGE, "file totals exceed 13 digits")
    # 5-17 debit value; 18-30 credit value; 31-37 debit count; 38-44 credit count; 45-80 blank.
    return _label(f"UTL1{debit_total:013d}{credit_total:013d}{debit_count:07d}{credit_count:07d}")


def _label(text: str) -> str:
    if len(text) > LABEL_WIDTH:
        raise AssertionError(f"label record longer than {LABEL_WIDTH}: {text!r}")
    return text.ljust(LABEL_WIDTH)
