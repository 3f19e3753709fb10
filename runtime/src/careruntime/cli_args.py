"""What the services' command lines share, so a bad argument or setting is refused with its reason and exit
code 2 before anything is sent, instead of a traceback half-way through the command:

- argument types for argparse (`payments run create: error: argument run_id: ...`), each checking what the
  wire contract (careschemas) would check of the value later;
- `settings_or_exit`: a service's Settings from the environment, or one line per bad variable
  (`ledger: LEDGER_MAX_RECORDS=0: Input should be greater than or equal to 1`) and exit code 2;
- `database_or_exit`: a one-off command against the database (migrate, verify), or one line saying it is
  unreachable and exit code 3;
- `process_or_exit`: a long-running process (worker, relay, timer), or, when PostgreSQL cannot be reached as it
  starts, the same line and exit code 3 (once it runs, it rides out an outage by itself).
"""
from __future__ import annotations

import argparse
import math
import re
import sys
from datetime import date
from collections.abc import Callable
from typing import TypeVar

import asyncpg
import psycopg

from careschemas.envelope import COUNCIL_PATTERN, ID_PATTERN
from pydantic import ValidationError
from pydantic_settings import BaseSettings
from pydantic_settings.exceptions import SettingsError

BAD_SETTING = 2
UNREACHABLE = 3

S = TypeVar("S", bound=BaseSettings)
R = TypeVar("R")

DATABASE_UNREACHABLE = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)
"""What asyncpg raises when PostgreSQL cannot be reached or used: a refused connection and an unknown host
are OSError, a wrong password or database asyncpg's own errors."""


def iso_date(text: str) -> date:
    """A calendar date, YYYY-MM-DD."""
    try:
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
            return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date: {exc}") from None
    raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD")


def council(text: str) -> str:
    if not re.fullmatch(COUNCIL_PATTERN, text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a council id (letters, digits and -, at most 32)")
    return text


def identifier(text: str) -> str:
    """An id as the envelope takes it (a run id, a command id)."""
    if not re.fullmatch(ID_PATTERN, text):
        raise argparse.ArgumentTypeError(f"{text[:140]!r} is not an id (a letter or digit, then letters, digits "
                                         "and . _ : -, at most 128)")
    return text


def actor(text: str) -> str:
    """Who does it (careschemas.common.Actor): not blank, at most 128 characters."""
    if not text.strip() or len(text) > 128:
        raise argparse.ArgumentTypeError(f"{text[:140]!r} is not a user id (not blank, at most 128 characters)")
    return text


def seconds(text: str) -> float:
    """A positive, finite number of seconds."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return value


def settings_or_exit(settings_class: type[S], prog: str) -> S:
    """`settings_class()` from the environment; a bad setting is named on stderr and the process exits 2."""
    prefix = settings_class.model_config.get("env_prefix", "").upper()
    try:
        return settings_class()
    except ValidationError as exc:
        for error in exc.errors():
            name = prefix + "_".join(str(part) for part in error["loc"]).upper()
            print(f"{prog}: {name}={error.get('input')!r}: {error['msg']}", file=sys.stderr)
    except SettingsError as exc:  # a list or JSON setting that is not JSON
        print(f"{prog}: {exc} ({exc.__cause__}); such a setting is JSON, e.g. '[\"a\", \"b\"]'", file=sys.stderr)
    raise SystemExit(BAD_SETTING)


def database_or_exit(prog: str, command: Callable[[], R]) -> R:
    """`command()`; when the database cannot be reached (refused, unknown host, wrong password, timed out)
    one line on stderr and exit 3, not a traceback."""
    try:
        return command()
    except (*DATABASE_UNREACHABLE, psycopg.OperationalError) as exc:  # psycopg: yoyo's migrations
        print(unreachable(prog, exc), file=sys.stderr)
        raise SystemExit(UNREACHABLE) from None


def process_or_exit(prog: str, run: Callable[[], R]) -> R:
    """`run()` of a long-running process; when its pool cannot be opened at start (careruntime.pool.open_pool)
    one line on stderr and exit 3, not a traceback. Only that: any other error keeps its traceback."""
    from .pool import DatabaseUnreachable  # pool imports this module

    try:
        return run()
    except DatabaseUnreachable as exc:
        print(unreachable(prog, exc.__cause__ or exc), file=sys.stderr)  # the line database_or_exit prints
        raise SystemExit(UNREACHABLE) from None


def unreachable(prog: str, exc: BaseException) -> str:
    """The one line a command prints when the database cannot be reached."""
    return f"{prog}: the database is unreachable: {type(exc).__name__}: {str(exc).strip()}"
