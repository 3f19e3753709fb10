"""ISO 20022 pain.001 (customer credit transfer initiation) for a payment run.

One GrpHdr (MsgId = run id, CreDtTm, NbOfTxs, CtrlSum), one PmtInf debiting the council's account
on the processing date, and one CdtTrfTxInf per instruction carrying the payment's EndToEndId, the
amount as an exact decimal of pence, the payee's account and the reference as unstructured
remittance. pain.001.001.09 is the default; pain.001.001.03 is available for banks still on it.
Payees without an IBAN are addressed by UK sort code (ClrSysMmbId GBDSC) and account number
(Othr/Id with scheme BBAN); payees without a BIC by sort code alone.

The document is written from fixed templates with every value XML-escaped by the standard library
(xml.sax.saxutils), not built node by node: a 100,000-payment run renders in well under a second
this way, against about three seconds through lxml's tree API. Tests validate the output against
the official XSDs, and a property test feeds arbitrary text through the escaping.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from payments.formats.errors import PaymentFileInvalid
from payments.formats.model import FileBatch, Instruction
from payments.formats.validation import (
    BLANK_NAME,
    BLANK_REFERENCE,
    INVALID_ACCOUNT_NUMBER,
    INVALID_SORT_CODE,
    iso_identifier,
    pence_as_decimal_text,
    printable_text,
    require_bic,
    require_digits,
    require_iban,
    require_instructions,
    require_positive_pence,
)

PAIN_001_001_09 = "pain.001.001.09"
PAIN_001_001_03 = "pain.001.001.03"
SUPPORTED_VERSIONS = (PAIN_001_001_09, PAIN_001_001_03)
CURRENCY = "GBP"
UK_SORT_CODE_CLEARING = "GBDSC"
MAX_TEXT_140 = 140
MAX_AMOUNT_PENCE = 99_999_999_999_999_999  # DecimalNumber: 18 digits, 2 of them decimals

_HEADER = """<?xml version='1.0' encoding='UTF-8'?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:{version}">
  <CstmrCdtTrfInitn>
    <GrpHdr>
      <MsgId>{msg_id}</MsgId>
      <CreDtTm>{created}</CreDtTm>
      <NbOfTxs>{count}</NbOfTxs>
      <CtrlSum>{total}</CtrlSum>
      <InitgPty>
        <Nm>{originator_name}</Nm>
        <Id><OrgId><Othr><Id>{service_user_number}</Id></Othr></OrgId></Id>
      </InitgPty>
    </GrpHdr>
    <PmtInf>
      <PmtInfId>{msg_id}</PmtInfId>
      <PmtMtd>TRF</PmtMtd>
      <BtchBookg>false</BtchBookg>
      <NbOfTxs>{count}</NbOfTxs>
      <CtrlSum>{total}</CtrlSum>
      <ReqdExctnDt>{execution_date}</ReqdExctnDt>
      <Dbtr>
        <Nm>{originator_name}</Nm>
      </Dbtr>
      <DbtrAcct>
        <Id><IBAN>{originator_iban}</IBAN></Id>
        <Ccy>GBP</Ccy>
      </DbtrAcct>
      <DbtrAgt>
        <FinInstnId><{bic_tag}>{originator_bic}</{bic_tag}></FinInstnId>
      </DbtrAgt>
      <ChrgBr>SHAR</ChrgBr>
"""

_TRANSFER = """      <CdtTrfTxInf>
        <PmtId>
          <InstrId>{instruction_id}</InstrId>
          <EndToEndId>{end_to_end_id}</EndToEndId>
        </PmtId>
        <Amt><InstdAmt Ccy="GBP">{amount}</InstdAmt></Amt>
        <CdtrAgt>
          <FinInstnId>{agent}</FinInstnId>
        </CdtrAgt>
        <Cdtr>
          <Nm>{name}</Nm>
        </Cdtr>
        <CdtrAcct>
          <Id>{account}</Id>
        </CdtrAcct>
        <RmtInf>
          <Ustrd>{reference}</Ustrd>
        </RmtInf>
      </CdtTrfTxInf>
"""

_FOOTER = """    </PmtInf>
  </CstmrCdtTrfInitn>
</Document>
"""

_BIC_TAG = {PAIN_001_001_09: "BICFI", PAIN_001_001_03: "BIC"}


def render_pain001(batch: FileBatch, version: str = PAIN_001_001_09) -> bytes:
    """Render the batch as a UTF-8 pain.001 document, or raise PaymentFileInvalid with a code."""
    if version not in SUPPORTED_VERSIONS:
        raise PaymentFileInvalid("unsupported_version", f"pain.001 version {version!r} is not supported")
    require_instructions(batch)
    bic_tag = _BIC_TAG[version]
    transfers = [_transfer(instruction, bic_tag) for instruction in batch.instructions]
    total = sum(instruction.amount_pence for instruction in batch.instructions)
    originator = batch.originator
    execution_date = batch.processing_date.isoformat()
    header = _HEADER.format(
        version=version,
        msg_id=escape(iso_identifier(batch.run_id, "run id")),
        created=batch.created_at.replace(microsecond=0).isoformat(),
        count=len(transfers),
        total=pence_as_decimal_text(total),
        originator_name=_text(originator.name, BLANK_NAME, "originator name"),
        service_user_number=escape(originator.service_user_number),
        execution_date=f"<Dt>{execution_date}</Dt>" if version == PAIN_001_001_09 else execution_date,
        originator_iban=require_iban(originator.iban, "originator IBAN"),
        bic_tag=bic_tag,
        originator_bic=require_bic(originator.bic, "originator BIC"),
    )
    return "".join([header, *transfers, _FOOTER]).encode("utf-8")


def _transfer(instruction: Instruction, bic_tag: str) -> str:
    payee = instruction.payee
    who = f"payee {payee.account_ref}"
    sort_code = require_digits(payee.sort_code, 6, INVALID_SORT_CODE, f"{who} sort code")
    if payee.bic:
        agent = f"<{bic_tag}>{require_bic(payee.bic, f'{who} BIC')}</{bic_tag}>"
    else:
        agent = f"<ClrSysMmbId><ClrSysId><Cd>{UK_SORT_CODE_CLEARING}</Cd></ClrSysId><MmbId>{sort_code}</MmbId></ClrSysMmbId>"
    if payee.iban:
        account = f"<IBAN>{require_iban(payee.iban, f'{who} IBAN')}</IBAN>"
    else:
        number = require_digits(payee.account_number, 8, INVALID_ACCOUNT_NUMBER, f"{who} account number")
        account = f"<Othr><Id>{sort_code}{number}</Id><SchmeNm><Cd>BBAN</Cd></SchmeNm></Othr>"
    return _TRANSFER.format(
        instruction_id=escape(iso_identifier(instruction.payment_id, "payment id")),
        end_to_end_id=escape(iso_identifier(instruction.end_to_end_id, "end-to-end id")),
        amount=pence_as_decimal_text(require_positive_pence(instruction, MAX_AMOUNT_PENCE)),
        agent=agent,
        name=_text(payee.name, BLANK_NAME, f"{who} name"),
        account=account,
        reference=_text(instruction.reference, BLANK_REFERENCE, f"payment {instruction.payment_id} reference"),
    )


def _text(value: str, code: str, what: str) -> str:
    """Max140Text: printable, trimmed, cut to 140, escaped; refuse what cleans down to nothing."""
    cleaned = printable_text(value, MAX_TEXT_140)
    if not cleaned:
        raise PaymentFileInvalid(code, f"{what} is blank")
    return escape(cleaned)
