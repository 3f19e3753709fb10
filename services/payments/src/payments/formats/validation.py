"""Checks and text clean-up shared by the bank-file renderers.

Every check raises PaymentFileInvalid with a stable code, so a payment run that cannot be
rendered is held with a reason instead of producing a file the bank would reject.
"""

from __future__ import annotations

import re
import unicodedata

from payments.formats.errors import PaymentFileInvalid
from payments.formats.model import FileBatch, Instruction

INVALID_SORT_CODE = "invalid_sort_code"
INVALID_ACCOUNT_NUMBER = "invalid_account_number"
INVALID_SERVICE_USER_NUMBER = "invalid_service_user_number"
NON_POSITIVE_AMOUNT = "non_positive_amount"
AMOUNT_TOO_LARGE = "amount_too_large"
TOTAL_TOO_LARGE = "total_too_large"
EMPTY_BATCH = "empty_batch"
BLANK_NAME = "blank_name"
BLANK_REFERENCE = "blank_reference"
DUPLICATE_END_TO_END_ID = "duplicate_end_to_end_id"
INVALID_IDENTIFIER = "invalid_identifier"
INVALID_IBAN = "invalid_iban"
INVALID_BIC = "invalid_bic"

# Bacs allows upper-case letters, digits, space and . & / - in names and references.
_BACS_DISALLOWED = re.compile(r"[^A-Z0-9 .&/\-]+")
_SPACES = re.compile(r" {2,}")
_IBAN = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}$")
_BIC = re.compile(r"^[A-Z0-9]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$")


def require_digits(value: str, length: int, code: str, what: str) -> str:
    if len(value) != length or not value.isascii() or not value.isdigit():
        raise PaymentFileInvalid(code, f"{what} must be exactly {length} digits, got {value!r}")
    return value


def require_positive_pence(instruction: Instruction, max_pence: int) -> int:
    amount = instruction.amount_pence
    if type(amount) is not int or amount <= 0:
        raise PaymentFileInvalid(
            NON_POSITIVE_AMOUNT,
            f"payment {instruction.payment_id}: amount must be a positive whole number of pence, got {amount!r}",
        )
    if amount > max_pence:
        raise PaymentFileInvalid(
            AMOUNT_TOO_LARGE, f"payment {instruction.payment_id}: {amount} pence exceeds the limit {max_pence}"
        )
    return amount


def require_instructions(batch: FileBatch) -> None:
    """A file needs at least one instruction, and end-to-end ids must be unique within it."""
    if not batch.instructions:
        raise PaymentFileInvalid(EMPTY_BATCH, f"run {batch.run_id} has no instructions")
    seen: set[str] = set()
    for instruction in batch.instructions:
        if instruction.end_to_end_id in seen:
            raise PaymentFileInvalid(
                DUPLICATE_END_TO_END_ID,
                f"end-to-end id {instruction.end_to_end_id!r} appears twice in run {batch.run_id}",
            )
        seen.add(instruction.end_to_end_id)


def ascii_fold(value: str) -> str:
    """Drop accents (é -> e) and anything else outside ASCII."""
    decomposed = unicodedata.normalize("NFKD", value)
    return decomposed.encode("ascii", "ignore").decode("ascii")


def bacs_text(value: str, width: int) -> str:
    """Upper-case, Bacs character set only, collapsed spaces, truncated and space-padded to width."""
    cleaned = _BACS_DISALLOWED.sub(" ", ascii_fold(value).upper())
    cleaned = _SPACES.sub(" ", cleaned).strip()
    return cleaned[:width].rstrip().ljust(width)


def require_text(value: str, width: int, code: str, what: str) -> str:
    """bacs_text, refusing a value that cleans down to nothing."""
    text = bacs_text(value, width)
    if not text.strip():
        raise PaymentFileInvalid(code, f"{what} is blank after removing characters Bacs does not allow: {value!r}")
    return text


def iso_identifier(value: str, what: str) -> str:
    """An ISO 20022 Max35Text identifier: ids longer than 35 lose their hyphens (a UUID fits in 32)."""
    candidate = value if len(value) <= 35 else value.replace("-", "")
    if (
        not candidate
        or len(candidate) > 35
        or not (candidate.isascii() and candidate.isprintable())
        or candidate != candidate.strip()
    ):
        raise PaymentFileInvalid(INVALID_IDENTIFIER, f"{what} {value!r} cannot be an ISO 20022 identifier (1-35 ASCII)")
    return candidate


def require_iban(value: str, what: str) -> str:
    iban = value.replace(" ", "").upper()
    if not _IBAN.match(iban) or _iban_remainder(iban) != 1:
        raise PaymentFileInvalid(INVALID_IBAN, f"{what} {value!r} is not a valid IBAN")
    return iban


def require_bic(value: str, what: str) -> str:
    bic = value.strip().upper()
    if not _BIC.match(bic):
        raise PaymentFileInvalid(INVALID_BIC, f"{what} {value!r} is not a valid BIC")
    return bic


def _iban_remainder(iban: str) -> int:
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97


def printable_text(value: str, limit: int) -> str:
    """Free text for XML: whitespace of any kind becomes a space, other non-printables (controls,
    surrogates, unassigned code points, which XML 1.0 may not carry) are dropped; trimmed and cut."""
    kept = "".join(char if char.isprintable() else " " if char.isspace() else "" for char in value)
    return kept.strip()[:limit].rstrip()


def pence_as_decimal_text(pence: int) -> str:
    """Exact decimal text of an amount in pence (12345 -> "123.45"); never goes through float."""
    return f"{pence // 100}.{pence % 100:02d}"
