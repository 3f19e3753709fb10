"""Types of the command line's arguments, so argparse refuses a bad one with its reason and exit code 2
(`reporting report: error: argument --as-of: ...`) instead of a traceback half-way through the command."""
from __future__ import annotations

import argparse
import re
from datetime import date, datetime

from ..domain.instants import utc_instant

COUNCIL_PATTERN = r"[A-Za-z0-9\-]{1,32}"  # as careschemas.envelope.Envelope.councilid


def iso_date(text: str) -> date:
    """A calendar date, YYYY-MM-DD."""
    try:
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
            return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date: {exc}") from None
    raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD")


def iso_instant(text: str) -> datetime:
    """A recorded time, ISO 8601 (UTC when it has no offset), in UTC (domain.instants.utc_instant)."""
    try:
        return utc_instant(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a time such as 2026-04-01T09:00:00Z") from None


def council(text: str) -> str:
    if not re.fullmatch(COUNCIL_PATTERN, text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a council id (letters, digits and -, at most 32)")
    return text


def param(text: str) -> tuple[str, str]:
    """KEY=VALUE (reports.params checks the key and the value against the report)."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"wants KEY=VALUE, not {text!r}")
    return key, value
