"""The council's bank directory: opaque account_ref tokens to payee bank accounts.

Events carry only account_ref (DOMAIN.md: bank details never travel in events). The council
supplies a CSV with the header account_ref,name,sort_code,account_number,iban,bic; iban and bic
may be empty. Sort codes may be written 20-00-00; everything else is checked strictly when the
file is loaded, so a bad row is reported with its line number rather than at payment time.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from pathlib import Path

from payments.formats.errors import BankDirectoryInvalid, PaymentFileInvalid, UnknownAccountRef
from payments.formats.model import PayeeAccount
from payments.formats.validation import (
    INVALID_ACCOUNT_NUMBER,
    INVALID_SORT_CODE,
    require_bic,
    require_digits,
    require_iban,
)

COLUMNS = ("account_ref", "name", "sort_code", "account_number", "iban", "bic")
UNKNOWN_ACCOUNT_REF = "unknown_account_ref"


class BankDirectory:
    """An immutable look-up of PayeeAccount by account_ref."""

    def __init__(self, accounts: Mapping[str, PayeeAccount]) -> None:
        self._accounts = dict(accounts)

    @classmethod
    def from_csv_text(cls, text: str) -> BankDirectory:
        reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
        try:
            return cls(_accounts(reader))
        except csv.Error as error:  # e.g. a field beyond the csv module's 131,072 characters
            raise BankDirectoryInvalid("malformed_csv", f"line {reader.line_num}: {error}") from None

    @classmethod
    def from_csv_file(cls, path: str | Path) -> BankDirectory:
        data = Path(path).read_bytes()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            line = data[: error.start].count(b"\n") + 1
            raise BankDirectoryInvalid("not_utf8", f"line {line}: not UTF-8 ({error.reason} at byte "
                                                   f"{error.start}); save the file as UTF-8") from None
        return cls.from_csv_text(text)

    def resolve(self, account_ref: str) -> PayeeAccount:
        try:
            return self._accounts[account_ref]
        except KeyError:
            raise UnknownAccountRef(UNKNOWN_ACCOUNT_REF, f"no bank account for account_ref {account_ref!r}") from None

    def __contains__(self, account_ref: object) -> bool:
        return account_ref in self._accounts

    def __len__(self) -> int:
        return len(self._accounts)

    def __iter__(self) -> Iterator[str]:
        return iter(self._accounts)


def _accounts(reader: csv.DictReader) -> dict[str, PayeeAccount]:
    missing = [column for column in COLUMNS if column not in (reader.fieldnames or ())]
    if missing:
        raise BankDirectoryInvalid("missing_columns", f"bank directory CSV lacks columns {missing}")
    accounts: dict[str, PayeeAccount] = {}
    for row in reader:
        line = reader.line_num
        account = _account_from_row(row, line)
        if account.account_ref in accounts:
            raise BankDirectoryInvalid(
                "duplicate_account_ref", f"line {line}: account_ref {account.account_ref!r} appears twice"
            )
        accounts[account.account_ref] = account
    return accounts


def _account_from_row(row: dict[str, str | None], line: int) -> PayeeAccount:
    values = {column: (row.get(column) or "").strip() for column in COLUMNS}
    if None in row or any(row.get(column) is None for column in COLUMNS):
        raise BankDirectoryInvalid("wrong_field_count", f"line {line}: expected {len(COLUMNS)} fields")
    if not values["account_ref"]:
        raise BankDirectoryInvalid("blank_account_ref", f"line {line}: account_ref is blank")
    if not values["name"]:
        raise BankDirectoryInvalid("blank_name", f"line {line}: name is blank")
    try:
        sort_code = values["sort_code"].replace("-", "").replace(" ", "")
        return PayeeAccount(
            account_ref=values["account_ref"],
            name=values["name"],
            sort_code=require_digits(sort_code, 6, INVALID_SORT_CODE, "sort code"),
            account_number=require_digits(values["account_number"], 8, INVALID_ACCOUNT_NUMBER, "account number"),
            iban=require_iban(values["iban"], "IBAN") if values["iban"] else None,
            bic=require_bic(values["bic"], "BIC") if values["bic"] else None,
        )
    except PaymentFileInvalid as error:
        raise BankDirectoryInvalid(error.code, f"line {line}: {error.detail}") from None
