"""A stand-in for the council's bank in the demo, the payments tests and the payments benchmark: a
bank directory CSV for the payees the payments service knows, and the camt.053 end-of-day statement
the bank would send after a payment run (settled debits, returned credits with a reason, and lines
that are not ours). Test tooling only: real statements come from the bank."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from hashlib import sha256

from payments.formats.validation import pence_as_decimal_text

_DEBIT = ('<Ntry><Amt Ccy="GBP">{amount}</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>'
          '<BookgDt><Dt>{day}</Dt></BookgDt><AcctSvcrRef>{ref}</AcctSvcrRef>'
          '<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>ICDT</Cd><SubFmlyCd>DMCT</SubFmlyCd></Fmly></Domn></BkTxCd>'
          '<NtryDtls><TxDtls><Refs><EndToEndId>{e2e}</EndToEndId></Refs></TxDtls></NtryDtls></Ntry>')
_RETURN = ('<Ntry><Amt Ccy="GBP">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>'
           '<BookgDt><Dt>{day}</Dt></BookgDt><AcctSvcrRef>{ref}</AcctSvcrRef>'
           '<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>ICDT</Cd><SubFmlyCd>RRTN</SubFmlyCd></Fmly></Domn></BkTxCd>'
           '<NtryDtls><TxDtls><Refs><EndToEndId>{e2e}</EndToEndId></Refs><Amt Ccy="GBP">{amount}</Amt>'
           '<CdtDbtInd>CRDT</CdtDbtInd><RtrInf><Rsn><Cd>{reason}</Cd></Rsn></RtrInf></TxDtls></NtryDtls></Ntry>')


def camt053(statement_id: str, iban: str, day: date, settled: Iterable[tuple[str, int]],
            returned: Iterable[tuple[str, int, str]] = (), foreign: Iterable[tuple[str, int]] = ()) -> bytes:
    """A camt.053.001.08 statement: `settled` (end-to-end id, pence) as debits, `returned` (id, pence,
    ISO reason such as AC04) as credits back, `foreign` (id, pence) debits the council never instructed."""
    entries, n = [], 0
    for e2e, amount in [*settled, *foreign]:
        n += 1
        entries.append(_DEBIT.format(amount=pence_as_decimal_text(amount), day=day, ref=f"BNK-{n:07d}", e2e=e2e))
    for e2e, amount, reason in returned:
        n += 1
        entries.append(_RETURN.format(amount=pence_as_decimal_text(amount), day=day, ref=f"BNK-{n:07d}", e2e=e2e,
                                      reason=reason))
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt><GrpHdr>'
            f'<MsgId>{statement_id}</MsgId><CreDtTm>{day}T06:00:00</CreDtTm></GrpHdr><Stmt><Id>{statement_id}</Id>'
            f'<Acct><Id><IBAN>{iban}</IBAN></Id></Acct>{"".join(entries)}</Stmt></BkToCstmrStmt></Document>').encode()


def directory_csv(account_refs: Sequence[str]) -> str:
    """A bank directory with a made-up UK account for every token (sort code and number from its hash)."""
    lines = ["account_ref,name,sort_code,account_number,iban,bic"]
    for ref in sorted(set(account_refs)):
        digits = str(int(sha256(ref.encode()).hexdigest(), 16))
        lines.append(f"{ref},Payee {ref[-12:]},{digits[:6]},{digits[6:14]},,")
    return "\n".join(lines) + "\n"
