"""The demo's reporting stage (caretools.demo_reporting) on a real ledger's year: it must write the audit
pack, find the journal and topic rebuilds in agreement and the ledger verified, and report headline figures
that match the pack's own trial balance."""
from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from caretools.demo_reporting import render, run_reporting_stage

from .ledger_harness import drop_database, module_deployment
from .reporting_harness import COUNCIL, feed, split_year

pytestmark = [pytest.mark.integration, pytest.mark.slow]


async def test_the_demo_stage_writes_the_audit_pack_and_headline_figures(stack, tmp_path):
    database = f"t_reporting_demo_{uuid.uuid4().hex[:8]}"
    async with module_deployment(stack, tmp_path / "ledger") as run:
        valid, bad = split_year(25, 9)
        run.start()
        await feed(run, valid + bad)
        try:
            figures = await run_reporting_stage(stack, run.dsn, run.names, COUNCIL, out=tmp_path / "out",
                                                progress=False, database=database)
        finally:
            await drop_database(stack, database)
            await drop_database(stack, database + "_topics")
    assert figures["journal_and_topics_agree"] and figures["ledger_verify_ok"]
    folder = Path(figures["audit_pack"])
    assert Path(figures["zip"]).is_file() and (folder / "index.html").is_file()
    total = json.loads((folder / "trial_balance.json").read_text())["rows"][-1]
    assert figures["headline"]["trial_balance_debits_pence"] == total["debit_pence"] > 0
    assert figures["headline"]["trial_balance_net_pence"] == 0
    assert figures["headline"]["integrity_failures"] == 0 and figures["headline"]["integrity_not_checked"] == 0
    assert 0.5 < figures["headline"]["external_share"] <= 1
    assert figures["as_of"] == "2027-03-31"
    assert "agree on every report: yes" in render(figures)
