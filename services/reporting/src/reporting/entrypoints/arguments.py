"""Types of the command line's arguments, so argparse refuses a bad one with its reason and exit code 2
(`reporting report: error: argument --as-of: ...`) instead of a traceback half-way through the command.
`council` and `iso_date` come from careruntime.cli_args, shared with the other services' command lines."""
from __future__ import annotations

import argparse
from datetime import datetime

from ..domain.instants import utc_instant


def iso_instant(text: str) -> datetime:
    """A recorded time, ISO 8601 (UTC when it has no offset), in UTC (domain.instants.utc_instant)."""
    try:
        return utc_instant(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a time such as 2026-04-01T09:00:00Z") from None


def param(text: str) -> tuple[str, str]:
    """KEY=VALUE (reports.params checks the key and the value against the report)."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"wants KEY=VALUE, not {text!r}")
    return key, value
