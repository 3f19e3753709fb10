"""pain.001: valid against the official ISO 20022 XSDs shipped by sepaxml, exact amounts, escaping.

The XSDs come from the sepaxml package (pinned in requirements.txt), which ships the unmodified
schemas published by ISO 20022; nothing here is hand-written schema.
"""

from __future__ import annotations

import dataclasses
import sys
from decimal import Decimal
from functools import cache
from pathlib import Path

import pytest
import sepaxml
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from payments.formats import PAIN_001_001_03, PAIN_001_001_09, Instruction, PaymentFileInvalid, render_pain001
from payments.formats.validation import printable_text

sys.path.insert(0, str(Path(__file__).parent))
from test_formats_sample import SAMPLE_BATCH

VERSIONS = (PAIN_001_001_09, PAIN_001_001_03)


@cache
def official_schema(version: str) -> etree.XMLSchema:
    path = Path(sepaxml.__file__).parent / "schemas" / f"{version}.xsd"
    return etree.XMLSchema(etree.parse(str(path)))


def validation_errors(data: bytes, version: str) -> list[str]:
    schema = official_schema(version)
    schema.validate(etree.fromstring(data))
    return [error.message for error in schema.error_log]


def ns(version: str) -> dict[str, str]:
    return {"p": f"urn:iso:std:iso:20022:tech:xsd:{version}"}


def first_instruction(**changes) -> Instruction:
    return dataclasses.replace(SAMPLE_BATCH.instructions[0], **changes)


@pytest.mark.parametrize("version", VERSIONS)
def test_sample_run_is_valid_against_the_official_xsd(version: str) -> None:
    assert validation_errors(render_pain001(SAMPLE_BATCH, version), version) == []


@pytest.mark.parametrize("version", VERSIONS)
def test_broken_documents_fail_the_official_xsd(version: str) -> None:
    good = render_pain001(SAMPLE_BATCH, version)
    broken = [
        good.replace(b"<NbOfTxs>6</NbOfTxs>", b"<NbOfTxs>six</NbOfTxs>", 1),  # not Max15NumericText
        good.replace(b"<PmtMtd>TRF</PmtMtd>", b"<PmtMtd>WIRE</PmtMtd>"),  # not a PaymentMethod3Code
        good.replace(b"<EndToEndId>E2E-0001</EndToEndId>", b""),  # mandatory element missing
        good.replace(b'Ccy="GBP">123.45<', b'Ccy="GBP">-123.45<'),  # negative amount
        good.replace(b'<InstdAmt Ccy="GBP">123.45<', b"<InstdAmt>123.45<"),  # currency missing
    ]
    for document in broken:
        assert document != good
        assert validation_errors(document, version), document[:200]


@pytest.mark.parametrize("version", VERSIONS)
def test_group_header_counts_and_control_sum_are_exact(version: str) -> None:
    root = etree.fromstring(render_pain001(SAMPLE_BATCH, version))
    amounts = [Decimal(a) for a in root.xpath("//p:CdtTrfTxInf/p:Amt/p:InstdAmt/text()", namespaces=ns(version))]
    assert amounts == [Decimal(i.amount_pence) / 100 for i in SAMPLE_BATCH.instructions]
    assert root.xpath("string(//p:GrpHdr/p:NbOfTxs)", namespaces=ns(version)) == "6"
    assert Decimal(root.xpath("string(//p:GrpHdr/p:CtrlSum)", namespaces=ns(version))) == sum(amounts)
    assert root.xpath("//p:PmtId/p:EndToEndId/text()", namespaces=ns(version)) == [
        i.end_to_end_id for i in SAMPLE_BATCH.instructions
    ]


def test_payees_are_addressed_by_iban_and_bic_or_by_sort_code_and_account() -> None:
    root = etree.fromstring(render_pain001(SAMPLE_BATCH))
    by_iban, by_sort_code = root.xpath("//p:CdtTrfTxInf", namespaces=ns(PAIN_001_001_09))[1::-1][:2]
    assert by_iban.xpath("string(p:CdtrAcct/p:Id/p:IBAN)", namespaces=ns(PAIN_001_001_09)) == "GB29NWBK60161331926819"
    assert by_iban.xpath("string(p:CdtrAgt/p:FinInstnId/p:BICFI)", namespaces=ns(PAIN_001_001_09)) == "NWBKGB2L"
    assert by_sort_code.xpath("string(p:CdtrAcct/p:Id/p:Othr/p:Id)", namespaces=ns(PAIN_001_001_09)) == "20000055779911"
    member = by_sort_code.xpath("p:CdtrAgt/p:FinInstnId/p:ClrSysMmbId", namespaces=ns(PAIN_001_001_09))[0]
    assert member.xpath("string(p:ClrSysId/p:Cd)", namespaces=ns(PAIN_001_001_09)) == "GBDSC"
    assert member.xpath("string(p:MmbId)", namespaces=ns(PAIN_001_001_09)) == "200000"


def test_a_uuid_run_id_fits_msgid_without_its_hyphens() -> None:
    batch = dataclasses.replace(SAMPLE_BATCH, run_id="6f1c2c1e-4a59-4f0e-9a57-1f5b7f3a2e10")
    data = render_pain001(batch)
    assert b"<MsgId>6f1c2c1e4a594f0e9a571f5b7f3a2e10</MsgId>" in data
    assert validation_errors(data, PAIN_001_001_09) == []


@pytest.mark.parametrize(
    ("batch", "code"),
    [
        (dataclasses.replace(SAMPLE_BATCH, instructions=(first_instruction(amount_pence=0),)), "non_positive_amount"),
        (
            dataclasses.replace(SAMPLE_BATCH, instructions=(first_instruction(end_to_end_id="x" * 36),)),
            "invalid_identifier",
        ),
        (
            dataclasses.replace(SAMPLE_BATCH, instructions=(first_instruction(end_to_end_id="a\x00b"),)),
            "invalid_identifier",
        ),
        (dataclasses.replace(SAMPLE_BATCH, instructions=(first_instruction(reference="\t \n"),)), "blank_reference"),
        (
            dataclasses.replace(
                SAMPLE_BATCH, originator=dataclasses.replace(SAMPLE_BATCH.originator, iban="GB00BUKB20201555555555")
            ),
            "invalid_iban",
        ),
        (
            dataclasses.replace(SAMPLE_BATCH, originator=dataclasses.replace(SAMPLE_BATCH.originator, bic="BUK")),
            "invalid_bic",
        ),
        (dataclasses.replace(SAMPLE_BATCH, instructions=()), "empty_batch"),
    ],
)
def test_invalid_input_is_refused_with_a_code(batch, code: str) -> None:
    with pytest.raises(PaymentFileInvalid) as error:
        render_pain001(batch)
    assert error.value.code == code


def test_unknown_version_is_refused() -> None:
    with pytest.raises(PaymentFileInvalid) as error:
        render_pain001(SAMPLE_BATCH, "pain.001.001.99")
    assert error.value.code == "unsupported_version"


@settings(max_examples=150, deadline=None)
@given(
    name=st.text(min_size=1, max_size=200).filter(lambda s: any(c.isprintable() and not c.isspace() for c in s)),
    reference=st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=200).filter(
        lambda s: any(c.isprintable() and not c.isspace() for c in s)
    ),
    amount=st.integers(min_value=1, max_value=10**15),
)
def test_any_text_is_escaped_into_a_valid_document(name: str, reference: str, amount: int) -> None:
    payee = dataclasses.replace(SAMPLE_BATCH.instructions[0].payee, name=name)
    batch = dataclasses.replace(
        SAMPLE_BATCH, instructions=(first_instruction(payee=payee, reference=reference, amount_pence=amount),)
    )
    data = render_pain001(batch)
    assert validation_errors(data, PAIN_001_001_09) == []
    root = etree.fromstring(data)
    written = root.xpath("string(//p:Cdtr/p:Nm)", namespaces=ns(PAIN_001_001_09))
    assert written == printable_text(name, 140)
    assert written.isprintable() and written == written.strip() and 0 < len(written) <= 140
    assert Decimal(root.xpath("string(//p:InstdAmt)", namespaces=ns(PAIN_001_001_09))) * 100 == amount
