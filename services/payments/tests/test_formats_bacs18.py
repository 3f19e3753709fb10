"""Bacs Standard 18: record layout by position, totals, character set and coded validation errors."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from payments.formats import Instruction, PaymentFileInvalid, render_bacs18
from payments.formats.validation import bacs_text

sys.path.insert(0, str(Path(__file__).parent))
from test_formats_sample import SAMPLE_BATCH


def records(data: bytes) -> list[str]:
    text = data.decode("ascii")
    assert text.endswith("\r\n")
    return text[:-2].split("\r\n")


def field(record: str, start: int, end: int) -> str:
    """Characters at 1-based inclusive positions, as the Bacs specification numbers them."""
    return record[start - 1 : end]


def with_instructions(*instructions: Instruction):
    return dataclasses.replace(SAMPLE_BATCH, instructions=instructions)


def first_instruction(**changes) -> Instruction:
    return dataclasses.replace(SAMPLE_BATCH.instructions[0], **changes)


def test_file_is_labels_then_one_record_per_instruction_then_contra_and_trailers() -> None:
    lines = records(render_bacs18(SAMPLE_BATCH))
    count = len(SAMPLE_BATCH.instructions)
    assert [line[:4] for line in lines[:4]] == ["VOL1", "HDR1", "HDR2", "UHL1"]
    assert [line[:4] for line in lines[-3:]] == ["EOF1", "EOF2", "UTL1"]
    assert len(lines) == 4 + count + 1 + 3
    assert [len(line) for line in lines] == [80] * 4 + [100] * (count + 1) + [80] * 3


def fields(record: str, expected: dict[tuple[int, int], str]) -> dict[tuple[int, int], str]:
    """The record's text at each (start, end) position of expected, for one readable comparison."""
    return {span: field(record, *span) for span in expected}


HEADER_LABELS = {
    "VOL1": {(5, 10): "000417", (42, 47): "123456", (80, 80): "1"},
    "HDR1": {
        (5, 21): "A123456S  1123456",
        (22, 27): "000417",
        (28, 35): "00010001",
        (42, 47): " 26331",  # created 27 Nov 2026 = day 331
        (55, 60): "000000",
    },
    "HDR2": {(5, 15): "F0200000100", (51, 52): "00"},
    "UHL1": {(5, 10): " 26335", (11, 20): "999999    ", (29, 37): "1 DAILY  ", (38, 40): "001"},  # 1 Dec = 335
}

FIRST_STANDARD_RECORD = {
    (1, 6): "200000",
    (7, 14): "55779911",
    (15, 15): "0",
    (16, 17): "99",
    (18, 23): "202015",
    (24, 31): "55555555",
    (32, 35): "    ",
    (36, 46): "00000012345",
    (47, 64): "NORTHSHIRE COUNTY ",
    (65, 82): "DP DEC 2026 / PB-7",
    (83, 100): "MS EMILIE O BRIEN ",
}


def test_header_labels_carry_serial_service_user_number_and_julian_dates() -> None:
    for record in records(render_bacs18(SAMPLE_BATCH))[:4]:
        expected = HEADER_LABELS[record[:4]]
        assert fields(record, expected) == expected


def test_standard_record_fields_by_position() -> None:
    record = records(render_bacs18(SAMPLE_BATCH))[4]
    assert fields(record, FIRST_STANDARD_RECORD) == FIRST_STANDARD_RECORD


def test_contra_debits_the_council_with_the_total_and_utl1_balances() -> None:
    lines = records(render_bacs18(SAMPLE_BATCH))
    contra, utl1 = lines[-4], lines[-1]
    total = sum(i.amount_pence for i in SAMPLE_BATCH.instructions)
    assert field(contra, 1, 14) == "20201555555555"
    assert field(contra, 16, 17) == "17"
    assert field(contra, 18, 31) == "20201555555555"
    assert int(field(contra, 36, 46)) == total
    assert field(contra, 65, 82) == "CONTRA            "
    assert int(field(utl1, 5, 17)) == total  # debit value: the contra
    assert int(field(utl1, 18, 30)) == total  # credit value: the payments
    assert int(field(utl1, 31, 37)) == 1
    assert int(field(utl1, 38, 44)) == len(SAMPLE_BATCH.instructions)
    item_sum = sum(int(field(line, 36, 46)) for line in lines[4:-4])
    assert item_sum == total


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"amount_pence": 0}, "non_positive_amount"),
        ({"amount_pence": -5}, "non_positive_amount"),
        ({"amount_pence": 12.5}, "non_positive_amount"),
        ({"amount_pence": 100_000_000_000}, "amount_too_large"),
        ({"reference": "###"}, "blank_reference"),
        ({"payee": dataclasses.replace(SAMPLE_BATCH.instructions[0].payee, sort_code="20-00-00")}, "invalid_sort_code"),
        ({"payee": dataclasses.replace(SAMPLE_BATCH.instructions[0].payee, sort_code="20000")}, "invalid_sort_code"),
        (
            {"payee": dataclasses.replace(SAMPLE_BATCH.instructions[0].payee, account_number="1234567")},
            "invalid_account_number",
        ),
        (
            {"payee": dataclasses.replace(SAMPLE_BATCH.instructions[0].payee, account_number="1234567X")},
            "invalid_account_number",
        ),
        ({"payee": dataclasses.replace(SAMPLE_BATCH.instructions[0].payee, name="   ")}, "blank_name"),
    ],
)
def test_invalid_instruction_is_refused_with_a_code(changes: dict, code: str) -> None:
    with pytest.raises(PaymentFileInvalid) as error:
        render_bacs18(with_instructions(first_instruction(**changes)))
    assert error.value.code == code


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"service_user_number": "12345"}, "invalid_service_user_number"),
        ({"sort_code": "ABCDEF"}, "invalid_sort_code"),
        ({"account_number": "123"}, "invalid_account_number"),
    ],
)
def test_invalid_originator_is_refused_with_a_code(changes: dict, code: str) -> None:
    batch = dataclasses.replace(SAMPLE_BATCH, originator=dataclasses.replace(SAMPLE_BATCH.originator, **changes))
    with pytest.raises(PaymentFileInvalid) as error:
        render_bacs18(batch)
    assert error.value.code == code


def test_empty_run_duplicate_ids_bad_serial_and_oversized_total_are_refused() -> None:
    cases = [
        (with_instructions(), "empty_batch"),
        (with_instructions(first_instruction(), first_instruction(payment_id="other")), "duplicate_end_to_end_id"),
        (dataclasses.replace(SAMPLE_BATCH, submission_serial="000000"), "invalid_submission_serial"),
        (dataclasses.replace(SAMPLE_BATCH, submission_serial="12345"), "invalid_submission_serial"),
        (
            with_instructions(
                first_instruction(amount_pence=99_999_999_999),
                first_instruction(end_to_end_id="E2E-X", amount_pence=1),
            ),
            "total_too_large",
        ),
    ]
    for batch, code in cases:
        with pytest.raises(PaymentFileInvalid) as error:
            render_bacs18(batch)
        assert error.value.code == code


def test_serial_derived_from_run_id_is_stable_and_never_all_zeros() -> None:
    batch = dataclasses.replace(SAMPLE_BATCH, submission_serial=None)
    serial = field(records(render_bacs18(batch))[0], 5, 10)
    assert serial.isdigit() and serial != "000000"
    assert serial == field(records(render_bacs18(batch))[0], 5, 10)
    other = dataclasses.replace(batch, run_id="another-run")
    assert field(records(render_bacs18(other))[0], 5, 10) != serial


@given(st.text(max_size=60))
def test_bacs_text_is_always_18_characters_of_the_bacs_character_set(value: str) -> None:
    text = bacs_text(value, 18)
    assert len(text) == 18
    assert set(text) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .&/-")
    assert not text.startswith(" ") or not text.strip()


@given(st.lists(st.integers(min_value=1, max_value=10**9), min_size=1, max_size=30))
def test_every_record_has_its_width_and_totals_add_up(amounts: list[int]) -> None:
    batch = with_instructions(
        *(
            first_instruction(end_to_end_id=f"E2E-{n}", payment_id=f"pay-{n}", amount_pence=a)
            for n, a in enumerate(amounts)
        )
    )
    lines = records(render_bacs18(batch))
    assert all(len(line) == (100 if 4 <= n < len(lines) - 3 else 80) for n, line in enumerate(lines))
    assert [int(field(line, 36, 46)) for line in lines[4:-4]] == amounts
    assert int(field(lines[-1], 18, 30)) == sum(amounts)
