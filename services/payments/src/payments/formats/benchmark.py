"""Time the bank-file renderers and the statement path on a large synthetic run.

    .venv/bin/python -m payments.formats.benchmark [instructions]   (default 100,000)

Prints seconds and file size for Bacs Standard 18 and pain.001, then parses and reconciles a
camt.053 statement settling every payment. Not a test: figures depend on the machine.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, date, datetime

from payments.formats import (
    FileBatch,
    Instruction,
    Originator,
    PayeeAccount,
    file_sha256,
    parse_camt,
    reconcile,
    render_bacs18,
    render_pain001,
)
from payments.formats.validation import pence_as_decimal_text

_ENTRY = (
    '<Ntry><Amt Ccy="GBP">{amount}</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>'
    "<BookgDt><Dt>2026-12-01</Dt></BookgDt><AcctSvcrRef>B{n}</AcctSvcrRef>"
    "<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>ICDT</Cd><SubFmlyCd>DMCT</SubFmlyCd></Fmly></Domn></BkTxCd>"
    "<NtryDtls><TxDtls><Refs><EndToEndId>{e2e}</EndToEndId></Refs></TxDtls></NtryDtls></Ntry>"
)


def synthetic_batch(count: int) -> FileBatch:
    originator = Originator(
        "Northshire County Council", "202015", "55555555", "123456", "GB33BUKB20201555555555", "BUKBGB22"
    )
    instructions = tuple(
        Instruction(
            payment_id=f"pay-{n:07d}",
            end_to_end_id=f"E2E-{n:07d}",
            amount_pence=1_000 + n % 250_000,
            payee=PayeeAccount(f"acct-{n}", f"Payee number {n}", "200000", f"{n % 100_000_000:08d}"),
            reference=f"DP DEC 2026 {n}",
        )
        for n in range(count)
    )
    return FileBatch(
        "run-benchmark", "northshire", datetime(2026, 11, 27, tzinfo=UTC), date(2026, 12, 1), originator, instructions
    )


def synthetic_statement(batch: FileBatch) -> bytes:
    entries = "".join(
        _ENTRY.format(amount=pence_as_decimal_text(i.amount_pence), n=n, e2e=i.end_to_end_id)
        for n, i in enumerate(batch.instructions)
    )
    return (
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt><GrpHdr><MsgId>M</MsgId>'
        "<CreDtTm>2026-12-02T06:00:00</CreDtTm></GrpHdr><Stmt><Id>S</Id><Acct><Id><IBAN>GB33BUKB20201555555555</IBAN>"
        f"</Id></Acct>{entries}</Stmt></BkToCstmrStmt></Document>"
    ).encode()


def _timed(label: str, action):
    """Wall and CPU seconds: on a shared machine the CPU figure is the steadier one."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = action()
    print(f"{label:<34} {time.perf_counter() - wall:7.3f} s wall {time.process_time() - cpu:7.3f} s cpu", end="")
    return result


def main(count: int) -> None:
    batch = synthetic_batch(count)
    print(f"{count:,} instructions")
    for label, render in (("render_bacs18", render_bacs18), ("render_pain001 (pain.001.001.09)", render_pain001)):
        data = _timed(label, lambda render=render: render(batch))
        print(f"   {len(data):>12,} bytes  sha256 {file_sha256(data)[:16]}…")
    statement_bytes = synthetic_statement(batch)
    statement = _timed("parse_camt (camt.053.001.08)", lambda: parse_camt(statement_bytes))
    print(f"   {len(statement.entries):>12,} entries")
    instructed = {i.end_to_end_id: (i.payment_id, i.amount_pence) for i in batch.instructions}
    result = _timed("reconcile", lambda: reconcile(statement, instructed))
    print(f"   {len(result.settled):>12,} settled, {len(result.unmatched)} unmatched")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
