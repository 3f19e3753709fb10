"""camt.053/054 parsing: fixtures valid against the official XSDs, entry splitting, return reasons,
and coded StatementError (never a crash) on malformed, unknown or incomplete input."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from payments.formats import StatementError, parse_camt, parse_camt_all

sys.path.insert(0, str(Path(__file__).parent))
from test_formats_sample import GOLDEN

FIXTURES = {
    "camt053_run_statement.xml": "camt.053.001.08",
    "camt054_return_notification.xml": "camt.054.001.08",
    "camt053v02_statement.xml": "camt.053.001.02",
}


def fixture(name: str) -> bytes:
    return (GOLDEN / name).read_bytes()


def minimal_statement(entries: str, version: str = "camt.053.001.08", statements: int = 1) -> bytes:
    stmt = f"""<Stmt><Id>S1</Id><Acct><Id><IBAN>GB33BUKB20201555555555</IBAN></Id></Acct>{entries}</Stmt>"""
    return (
        f'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:{version}"><BkToCstmrStmt>'
        f"<GrpHdr><MsgId>M</MsgId><CreDtTm>2026-12-02T06:00:00</CreDtTm></GrpHdr>{stmt * statements}"
        "</BkToCstmrStmt></Document>"
    ).encode()


def entry(
    amount: str = "10.00", indicator: str = "DBIT", details: str = "", status: str = "<Sts><Cd>BOOK</Cd></Sts>"
) -> str:
    return (
        f'<Ntry><Amt Ccy="GBP">{amount}</Amt><CdtDbtInd>{indicator}</CdtDbtInd>{status}'
        f"<BookgDt><Dt>2026-12-01</Dt></BookgDt><AcctSvcrRef>R1</AcctSvcrRef>{details}</Ntry>"
    )


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_fixtures_are_valid_against_the_official_xsd(name: str) -> None:
    schema = etree.XMLSchema(etree.parse(str(GOLDEN / "xsd" / f"{FIXTURES[name]}.xsd")))
    assert schema.validate(etree.fromstring(fixture(name))), schema.error_log


def test_run_statement_is_read_entry_by_entry_and_batches_are_split() -> None:
    statement = parse_camt(fixture("camt053_run_statement.xml"))
    assert statement.statement_id == "STMT-GB33BUKB-20261201"
    assert statement.account_iban == "GB33BUKB20201555555555"
    assert statement.message_type == "camt.053"
    summary = [
        (e.entry_ref, e.end_to_end_id, e.amount_pence, e.credit, e.status, e.return_reason) for e in statement.entries
    ]
    assert summary == [
        ("BNK-000101", "E2E-0001", 12345, False, "BOOK", None),
        ("BNK-000102/1", "E2E-0002", 1, False, "BOOK", None),
        ("BNK-000102/2", "E2E-0003", 35000, False, "BOOK", None),
        ("BNK-000103", "E2E-0004", 7550, True, "BOOK", "AC04"),
        ("BNK-000104", "SOMEONE-ELSES-PAYMENT", 1000, False, "BOOK", None),
        ("BNK-000105", "E2E-0005", 99999, False, "BOOK", None),
        ("BNK-000106", None, 60000, True, "BOOK", None),
        ("BNK-000107", "E2E-0006", 123456, False, "PDNG", None),
    ]
    assert {e.booked_on for e in statement.entries[:-1]} == {date(2026, 12, 1)}
    assert statement.entries[-1].booked_on == date(2026, 12, 2)  # pending: value date


def test_camt054_notification_with_booking_datetime_and_return_reason() -> None:
    (line,) = parse_camt(fixture("camt054_return_notification.xml")).entries
    assert (line.entry_ref, line.end_to_end_id, line.amount_pence, line.credit) == ("R-7781", "E2E-0003", 35000, True)
    assert (line.return_reason, line.booked_on) == ("AC01", date(2026, 12, 3))


def test_camt053_v02_layout_reads_amount_details_and_flags_rrtn_returns() -> None:
    statement = parse_camt(fixture("camt053v02_statement.xml"))
    assert (statement.account_iban, statement.account_number) == (None, "40123412345678")
    settled, returned = statement.entries
    assert (settled.end_to_end_id, settled.amount_pence, settled.status, settled.return_reason) == (
        "E2E-0001",
        12345,
        "BOOK",
        None,
    )
    assert (returned.end_to_end_id, returned.amount_pence, returned.return_reason) == ("E2E-0004", 7550, "UNSPECIFIED")


def test_several_statements_need_parse_camt_all() -> None:
    data = minimal_statement(entry(), statements=2)
    assert len(parse_camt_all(data)) == 2
    with pytest.raises(StatementError) as error:
        parse_camt(data)
    assert error.value.code == "not_one_statement"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "malformed_xml"),
        (b"   ", "malformed_xml"),
        ("not bytes", "malformed_xml"),
        (b"<Document><unclosed>", "malformed_xml"),
        (b"\x89PNG\r\n\x1a\n", "malformed_xml"),
        (b"<Document/>", "unknown_message_type"),
        (b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"/>', "unknown_message_type"),
        (b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.052.001.08"/>', "unknown_message_type"),
        (b'<Foo xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"/>', "unknown_message_type"),
        (b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"/>', "missing_field"),
        (minimal_statement(entry(amount="-10.00")), "invalid_amount"),
        (minimal_statement(entry(amount="10.001")), "invalid_amount"),
        (minimal_statement(entry(amount="1e3")), "invalid_amount"),
        (minimal_statement(entry(indicator="BOTH")), "invalid_credit_debit_indicator"),
        (minimal_statement(entry(status="")), "missing_field"),
        (minimal_statement(entry().replace("<BookgDt><Dt>2026-12-01</Dt></BookgDt>", "")), "missing_field"),
        (minimal_statement(entry().replace("2026-12-01", "2026-13-01")), "invalid_date"),
        (minimal_statement(entry().replace('<Amt Ccy="GBP">10.00</Amt>', "")), "missing_field"),
        (
            minimal_statement(
                entry(
                    details='<NtryDtls><TxDtls><Amt Ccy="GBP">4.00</Amt></TxDtls><TxDtls><Amt Ccy="GBP">5.00</Amt></TxDtls></NtryDtls>'
                )
            ),
            "transactions_do_not_add_up",
        ),
        (
            minimal_statement(
                entry(details='<NtryDtls><TxDtls/><TxDtls><Amt Ccy="GBP">5.00</Amt></TxDtls></NtryDtls>')
            ),
            "missing_field",
        ),
        (
            minimal_statement(entry(details='<NtryDtls><TxDtls><Amt Ccy="EUR">10.00</Amt></TxDtls></NtryDtls>')),
            "invalid_amount",
        ),
    ],
)
def test_bad_input_raises_a_coded_statement_error(data: bytes, code: str) -> None:
    with pytest.raises(StatementError) as error:
        parse_camt(data)
    assert error.value.code == code


def test_entities_are_not_expanded() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "AAAAAAAAAA"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        + minimal_statement(entry().replace("R1", "&b;")).split(b"?>", 1)[-1]
    )
    statement = parse_camt(bomb)
    assert "A" * 10 not in statement.entries[0].entry_ref


def test_entry_refs_stay_unique_when_the_bank_repeats_one() -> None:
    statement = parse_camt(minimal_statement(entry() + entry()))
    assert [e.entry_ref for e in statement.entries] == ["R1", "R1#2"]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_never_crash_the_parser(data: bytes) -> None:
    try:
        parse_camt(data)
    except StatementError as error:
        assert error.code


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=10**12))
def test_amounts_convert_to_pence_exactly(pence: int) -> None:
    text = f"{pence // 100}.{pence % 100:02d}"
    assert parse_camt(minimal_statement(entry(amount=text))).entries[0].amount_pence == pence


def test_a_return_flagged_only_by_its_bank_transaction_code_has_an_unspecified_reason() -> None:
    rrtn = "<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>ICDT</Cd><SubFmlyCd>RRTN</SubFmlyCd></Fmly></Domn></BkTxCd>"
    dmct = rrtn.replace("RRTN", "DMCT")
    returned, paid = parse_camt(minimal_statement(entry(indicator="CRDT", details=rrtn) + entry(details=dmct))).entries
    assert (returned.credit, returned.return_reason) == (True, "UNSPECIFIED")
    assert (paid.credit, paid.return_reason) == (False, None)


def test_transactions_keep_their_own_direction_within_a_netted_entry() -> None:
    details = (
        '<NtryDtls><TxDtls><Amt Ccy="GBP">10.00</Amt><CdtDbtInd>DBIT</CdtDbtInd></TxDtls>'
        '<TxDtls><Amt Ccy="GBP">4.00</Amt><CdtDbtInd>CRDT</CdtDbtInd></TxDtls></NtryDtls>'
    )
    lines = parse_camt(minimal_statement(entry(amount="6.00", details=details))).entries
    assert [(line.amount_pence, line.credit) for line in lines] == [(1000, False), (400, True)]
    with pytest.raises(StatementError) as error:
        parse_camt(minimal_statement(entry(amount="6.00", details=details.replace(">CRDT<", ">XXXX<"))))
    assert error.value.code == "invalid_credit_debit_indicator"


def test_line_refs_stay_unique_when_an_entry_ref_looks_like_a_split_line() -> None:
    # Entry A is split into A/1 and A/2; the next entry's own reference is A/1. Two lines with one reference
    # would get one command id at import, and the second payment would be answered as its duplicate.
    split = '<NtryDtls><TxDtls><Amt Ccy="GBP">4.00</Amt></TxDtls><TxDtls><Amt Ccy="GBP">6.00</Amt></TxDtls></NtryDtls>'
    data = minimal_statement(entry(details=split).replace("R1", "A") + entry().replace("R1", "A/1"))
    refs = [e.entry_ref for e in parse_camt(data).entries]
    assert refs[:2] == ["A/1", "A/2"] and len(set(refs)) == 3


def test_a_return_reason_longer_than_iso_allows_is_refused() -> None:
    # ISO 20022 return reasons are a code of up to 4 characters or a proprietary Max35Text; a longer one would
    # make a RecordReturn the contract refuses (its reason holds 500 characters): a traceback at import.
    details = '<NtryDtls><TxDtls><RtrInf><Rsn><Prtry>{}</Prtry></Rsn></RtrInf></TxDtls></NtryDtls>'
    assert parse_camt(minimal_statement(entry(indicator="CRDT", details=details.format("X" * 35)))).entries
    with pytest.raises(StatementError) as error:
        parse_camt(minimal_statement(entry(indicator="CRDT", details=details.format("X" * 600))))
    assert error.value.code == "field_too_long"


@pytest.mark.parametrize("text", ["2026-12-01garbage", "20261201", "2026-12-01T25:00:00", "2026-W48-2"])
def test_a_booking_date_that_is_not_an_iso_date_or_date_time_is_refused(text: str) -> None:
    data = minimal_statement(entry().replace("<Dt>2026-12-01</Dt>", f"<Dt>{text}</Dt>"))
    with pytest.raises(StatementError) as error:
        parse_camt(data)
    assert error.value.code == "invalid_date"


@pytest.mark.parametrize("text", ["2026-12-01T10:00:00", "2026-12-01T10:00:00.5+01:00", "2026-12-01T23:59:59Z"])
def test_a_booking_date_time_gives_its_day(text: str) -> None:
    data = minimal_statement(entry().replace("<Dt>2026-12-01</Dt>", f"<DtTm>{text}</DtTm>"))
    assert parse_camt(data).entries[0].booked_on == date(2026, 12, 1)
