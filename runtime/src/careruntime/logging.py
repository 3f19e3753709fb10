"""Structured logging: one JSON object per line on stdout, for every service.

Owns the log format. Each line carries `timestamp` (UTC, ISO 8601), `level`, `service`, `event` (the
message) and whatever is bound in context variables: the consumer binds its batch, `bind_event`
binds `event_id`, `correlation_id` and `council_id` of the message being handled. Records from the
standard library's `logging` (aiokafka, asyncpg, aiohttp) go through the same renderer.

While Kafka is unreachable aiokafka logs the same few errors about every 100 ms per connection (a ledger
worker wrote ~1,100 lines in a 15 s outage): `_Repeats` passes each of its messages once per
REPEAT_WINDOW_S, and the first one after a window says how many it held back (`repeated`).
"""
from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
import structlog
from careschemas.envelope import Envelope

# Libraries that are chatty at INFO about every rebalance and connection.
_QUIET_LIBRARIES = ("aiokafka", "kafka", "asyncio", "aiohttp.access")


REPEAT_WINDOW_S = 10.0
_REPEATING_LIBRARIES = ("aiokafka",)
_monotonic = time.monotonic


class _Repeats(logging.Filter):
    """Holds back a Kafka client's message repeated within REPEAT_WINDOW_S of its last logged instance."""

    def __init__(self) -> None:
        super().__init__()
        self._last: dict[tuple[str, int, str], tuple[float, int]] = {}  # -> (logged at, held back since)

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith(_REPEATING_LIBRARIES):
            return True
        key, now = (record.name, record.levelno, record.getMessage()), _monotonic()
        logged_at, held = self._last.get(key, (None, 0))
        if logged_at is not None and now - logged_at < REPEAT_WINDOW_S:
            self._last[key] = (logged_at, held + 1)
            return False
        if len(self._last) > 1000:  # messages naming changing things (offsets, ids) must not pile up
            self._last.clear()
        self._last[key] = (now, 0)
        if held:
            record.repeated = held
        return True


class _Stdout:
    """Whatever sys.stdout is at write time (test runners swap it), rather than the one at setup."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


def _json_dumps(obj: Any, default: Any = None) -> str:
    return orjson.dumps(obj, default=default or str).decode()


def configure_logging(service: str, level: str | int = "INFO") -> None:
    """Route structlog and stdlib logging to JSON lines on stdout, each tagged with `service`."""
    level_no = logging.getLevelName(level.upper()) if isinstance(level, str) else level

    def add_service(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
        event.setdefault("service", service)
        return event

    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        add_service,
    ]
    structlog.configure(
        processors=[
            *shared,
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(serializer=_json_dumps),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level_no),
        logger_factory=structlog.PrintLoggerFactory(_Stdout()),
        cache_logger_on_first_use=True,
    )

    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name, structlog.stdlib.ExtraAdder()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(serializer=_json_dumps),
        ],
    )
    handler = logging.StreamHandler(_Stdout())
    handler.setFormatter(formatter)
    handler.addFilter(_Repeats())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level_no)
    for name in _QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(max(level_no, logging.WARNING))


def event_context(envelope: Envelope) -> dict[str, str]:
    return {
        "event_id": envelope.id,
        "correlation_id": envelope.correlationid,
        "council_id": envelope.councilid,
    }


def bind_event(envelope: Envelope) -> None:
    """Bind the envelope's ids for every log line until `unbind_event` (or the task ends)."""
    structlog.contextvars.bind_contextvars(**event_context(envelope))


def unbind_event() -> None:
    structlog.contextvars.unbind_contextvars("event_id", "correlation_id", "council_id")


@contextmanager
def event_logging(envelope: Envelope) -> Iterator[None]:
    """`with event_logging(env): ...` binds the envelope's ids for the block only."""
    with structlog.contextvars.bound_contextvars(**event_context(envelope)):
        yield


__all__ = ["bind_event", "configure_logging", "event_context", "event_logging", "unbind_event"]
