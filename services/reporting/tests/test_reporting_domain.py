"""Unit tests of the reporting service's pure parts: periods, the progress line, planned units, run status."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from reporting.domain.instants import EARLIEST, LATEST, utc_instant
from reporting.domain.periods import financial_year_start, period_label
from reporting.domain.progress import progress_line
from reporting.entrypoints.arguments import iso_instant, param
from reporting.entrypoints.cli import last_year_end
from reporting.reports.invoices import planned_units
from reporting.reports.payments import run_status
from reporting.reports.provision import is_external


def test_the_financial_year_starts_on_the_first_of_april():
    assert financial_year_start(date(2026, 4, 1)) == date(2026, 4, 1)
    assert financial_year_start(date(2027, 3, 31)) == date(2026, 4, 1)
    assert financial_year_start(date(2027, 1, 15)) == date(2026, 4, 1)


def test_the_financial_year_at_the_calendars_edges():
    # January to March of year 1 belong to a financial year that began before the calendar does (0000-04-01):
    # it starts on the calendar's first day. Before, date(0, 4, 1) raised ValueError: a 500 from every report
    # that defaults its `from` to the year's start, and from the dashboard, for an as-at date in them.
    assert financial_year_start(date(1, 1, 1)) == financial_year_start(date(1, 3, 31)) == date(1, 1, 1)
    assert financial_year_start(date(1, 4, 1)) == date(1, 4, 1)
    assert financial_year_start(date(9999, 12, 31)) == date(9999, 4, 1)


@pytest.mark.parametrize("day, month, quarter, year", [
    (date(2026, 4, 1), "2026-04", "FY2026-Q1", "FY2026/27"),
    (date(2026, 6, 30), "2026-06", "FY2026-Q1", "FY2026/27"),
    (date(2026, 7, 1), "2026-07", "FY2026-Q2", "FY2026/27"),
    (date(2027, 1, 2), "2027-01", "FY2026-Q4", "FY2026/27"),
    (date(2027, 3, 31), "2027-03", "FY2026-Q4", "FY2026/27"),
    (date(2099, 12, 31), "2099-12", "FY2099-Q3", "FY2099/00"),
    (date(1, 1, 1), "0001-01", "FY0-Q4", "FY0/01"),  # raised ValueError (year 0) before
    (date(1, 3, 31), "0001-03", "FY0-Q4", "FY0/01"),
    (date(9999, 12, 31), "9999-12", "FY9999-Q3", "FY9999/00"),
])
def test_period_labels(day, month, quarter, year):
    assert (period_label(day, "month"), period_label(day, "quarter"), period_label(day, "year")) == (month, quarter, year)
    with pytest.raises(ValueError):
        period_label(day, "week")


@pytest.mark.parametrize("moment, utc", [
    (datetime(2026, 4, 1, 10, tzinfo=timezone(timedelta(hours=1))), datetime(2026, 4, 1, 9, tzinfo=UTC)),
    (datetime(2026, 4, 1, 9), datetime(2026, 4, 1, 9, tzinfo=UTC)),  # no offset: UTC, not the host's zone
    (datetime(1, 1, 1), EARLIEST),  # as local time, Python raised ValueError (year 0)
    (datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1))), EARLIEST),  # astimezone raised OverflowError
    (datetime(9999, 12, 31, 23, 30, tzinfo=timezone(timedelta(hours=-1))), LATEST),
])
def test_a_recorded_time_in_utc_even_at_the_calendars_edges(moment, utc):
    assert utc_instant(moment) == utc and utc_instant(moment).utcoffset() == timedelta(0)


def test_the_last_year_end_is_the_most_recent_31_march_before_today():
    assert last_year_end(date(2027, 3, 31)) == date(2026, 3, 31)
    assert last_year_end(date(2027, 4, 1)) == date(2027, 3, 31)
    assert last_year_end(date(2026, 11, 27)) == date(2026, 3, 31)


def test_progress_line():
    line = progress_line("journal", 250, 1000, 2.0, width=10)
    assert line.startswith("journal [##--------]  25.0%  250/1,000  125/s  eta 6s")
    assert "done" in progress_line("x", 5, 5, 1.0) and "100.0%" in progress_line("x", 5, 5, 1.0)
    assert "100.0%" in progress_line("empty", 0, 0, 0.0)


def test_planned_units_count_whole_days_to_the_end_or_the_report_date():
    start = date(2026, 4, 1)
    assert planned_units(7, start, date(2026, 4, 7), date(2027, 1, 1)) == 7
    assert planned_units(10, start, date(2027, 3, 31), date(2026, 4, 14)) == 20
    assert planned_units(10, start, date(2027, 3, 31), date(2026, 3, 31)) == 0


def _run(**kw):
    base = {"run_total": 300, "run_count": 2, "instructed": 300, "payments": 2, "file_total": 300,
            "file_name": "f.bacs", "approved_by": "bob", "created_by": "alice", "settled": 300, "returned": 0}
    return {**base, **kw}


def test_run_status():
    assert run_status(_run()) == "reconciled"
    assert run_status(_run(settled=100, returned=100)) == "awaiting settlement"
    assert run_status(_run(approved_by="alice")) == "MISMATCH: approved by its creator"
    assert run_status(_run(file_total=299)) == "MISMATCH: file total differs from the run"
    assert run_status(_run(run_total=None, run_count=None)).startswith("MISMATCH: no run record")
    assert "run total differs" in run_status(_run(instructed=200))


def test_external_provision_is_every_type_but_in_house_and_direct_payments_count():
    assert not is_external("in_house")
    assert all(is_external(t) for t in ("private", "charity", "social_enterprise", "mutual", "other_council", "nhs",
                                        "direct_payment"))
    assert not is_external("unknown")


def test_cli_parsing():
    import argparse
    assert iso_instant("2026-05-01T12:00:00Z").isoformat() == "2026-05-01T12:00:00+00:00"
    assert iso_instant("2026-05-01T12:00:00").isoformat() == "2026-05-01T12:00:00+00:00"
    assert param("target=0.75") == ("target", "0.75") and param("from=") == ("from", "")
    with pytest.raises(argparse.ArgumentTypeError):
        param("oops")


def test_journal_ranges_cover_every_sequence_number_once():
    from reporting.service.journal_replay import plan_ranges

    ranges = plan_ranges(10, 35, 10)
    assert ranges == [(10, 20), (20, 30), (30, 35)]
    covered = [seq for lo, hi in plan_ranges(0, 1001, 7) for seq in range(lo + 1, hi + 1)]
    assert covered == list(range(1, 1002))
    assert plan_ranges(5, 5, 10) == []
