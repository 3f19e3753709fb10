"""Point in time: the figures a report gives "as known at" a moment equal the figures that were live at
that moment. The first half of a year goes through the real ledger into the live reporting worker and
every report is taken; then the rest of the year (with bad input) follows, and the same reports asked
"as known at" the last recorded time of the first half must give the very same rows."""
from __future__ import annotations

from datetime import date

import pytest
from careruntime.codec import DecodeError, decode
from reporting.reports import ReportQuery

from .ledger_harness import module_deployment
from .reporting_harness import (
    COUNCIL, Databases, ReportingWorker, all_reports, feed, max_time, settings_for, split_year, wait_projected,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]
DATES = (date(2026, 9, 30), date(2027, 3, 31))


def decodable_ids(messages) -> set[tuple[str, str]]:
    ids = set()
    for m in messages:
        try:
            d = decode(m.value)
        except DecodeError:
            continue
        ids.add((d.envelope.id, d.content_hash))
    return ids


async def test_figures_as_known_at_a_moment_equal_the_figures_live_at_that_moment(stack, tmp_path):
    valid, bad = split_year(people=30, seed=3)
    cut = len(valid) // 2
    first, rest = valid[:cut], valid[cut:] + bad
    moment = max_time(first)
    assert min(m.at for m in valid[cut:]) > moment
    async with module_deployment(stack, tmp_path / "ledger") as run:
        dbs = Databases(stack)
        worker = None
        try:
            dsn = await dbs.new()
            worker = ReportingWorker(settings_for(stack, dsn, run), tmp_path / "reporting-worker.log")
            run.start()
            worker.start()
            await feed(run, first)
            await wait_projected(dsn, run.dsn, len(decodable_ids(first)), worker=worker)
            live = {d: await all_reports(dsn, ReportQuery(COUNCIL, d)) for d in DATES}
            await feed(run, rest)
            await wait_projected(dsn, run.dsn, len(decodable_ids(first + rest)), worker=worker)
            now = {d: await all_reports(dsn, ReportQuery(COUNCIL, d)) for d in DATES}
            then = {d: await all_reports(dsn, ReportQuery(COUNCIL, d, known_at=moment)) for d in DATES}
        finally:
            if worker:
                worker.stop()
            await dbs.drop_all()
    assert now[DATES[-1]]["trial_balance"] != live[DATES[-1]]["trial_balance"]  # the rest of the year counts now
    for d in DATES:
        for name in live[d]:
            assert then[d][name] == live[d][name], (d, name)
