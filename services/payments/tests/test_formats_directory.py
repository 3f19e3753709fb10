"""BankDirectory: account_ref to payee bank details from the council's CSV, checked on load."""

from __future__ import annotations

import pytest
from payments.formats import BankDirectory, BankDirectoryInvalid, PayeeAccount, UnknownAccountRef

HEADER = "account_ref,name,sort_code,account_number,iban,bic\n"


def test_rows_resolve_to_payee_accounts_with_optional_iban_and_bic() -> None:
    directory = BankDirectory.from_csv_text(
        "\ufeff" + HEADER + "acct-1,Jo Bloggs,20-00-00,55779911,,\n"
        'acct-2,"Care, Ltd",601613,31926819,GB29 NWBK 6016 1331 9268 19,nwbkgb2l\n'
    )
    assert len(directory) == 2 and "acct-1" in directory and sorted(directory) == ["acct-1", "acct-2"]
    assert directory.resolve("acct-1") == PayeeAccount("acct-1", "Jo Bloggs", "200000", "55779911", None, None)
    assert directory.resolve("acct-2") == PayeeAccount(
        "acct-2", "Care, Ltd", "601613", "31926819", "GB29NWBK60161331926819", "NWBKGB2L"
    )


def test_unknown_account_ref_is_a_coded_error() -> None:
    with pytest.raises(UnknownAccountRef) as error:
        BankDirectory.from_csv_text(HEADER).resolve("acct-404")
    assert error.value.code == "unknown_account_ref"


@pytest.mark.parametrize(
    ("text", "code", "line"),
    [
        ("account_ref,name,sort_code\nacct-1,Jo,200000\n", "missing_columns", None),
        (HEADER + "acct-1,Jo,200000,55779911,,\nacct-1,Jo,200000,55779911,,\n", "duplicate_account_ref", 3),
        (HEADER + ",Jo,200000,55779911,,\n", "blank_account_ref", 2),
        (HEADER + "acct-1,,200000,55779911,,\n", "blank_name", 2),
        (HEADER + "acct-1,Jo,2000,55779911,,\n", "invalid_sort_code", 2),
        (HEADER + "acct-1,Jo,200000,5577991,,\n", "invalid_account_number", 2),
        (HEADER + "acct-1,Jo,200000,55779911,GB00NWBK60161331926819,\n", "invalid_iban", 2),
        (HEADER + "acct-1,Jo,200000,55779911,,NW\n", "invalid_bic", 2),
        (HEADER + "acct-1,Jo,200000,55779911\n", "wrong_field_count", 2),
        (HEADER + "acct-1,Jo,200000,55779911,,,extra\n", "wrong_field_count", 2),
    ],
)
def test_bad_rows_are_reported_with_code_and_line(text: str, code: str, line: int | None) -> None:
    with pytest.raises(BankDirectoryInvalid) as error:
        BankDirectory.from_csv_text(text)
    assert error.value.code == code
    if line is not None:
        assert f"line {line}:" in error.value.detail


def test_loads_from_a_file(tmp_path) -> None:
    path = tmp_path / "bank.csv"
    path.write_text(HEADER + "acct-1,Jo Bloggs,200000,55779911,,\n", encoding="utf-8")
    assert BankDirectory.from_csv_file(path).resolve("acct-1").account_number == "55779911"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ((HEADER + "acct-1,Jos\xe9,200000,55779911,,\n").encode("latin-1"), "not_utf8"),
        ((HEADER + "acct-1,Jo,200000,55779911,,\n").encode("utf-16"), "not_utf8"),
        ((HEADER + "acct-1," + "J" * 200_000 + ",200000,55779911,,\n").encode(), "malformed_csv"),
    ],
)
def test_a_file_that_is_not_utf8_or_not_csv_is_a_coded_error(tmp_path, data: bytes, code: str) -> None:
    # The worker reads the directory when it writes a bank file and refuses the command on a coded error; any
    # other exception (UnicodeDecodeError, csv.Error) failed the command's batch on every retry.
    path = tmp_path / "directory.csv"
    path.write_bytes(data)
    with pytest.raises(BankDirectoryInvalid) as error:
        BankDirectory.from_csv_file(path)
    assert error.value.code == code
