"""Structured logging: one JSON object per line on stdout, for every service.

Owns the log format. Each line carries `timestamp` (UTC, ISO 8601), `level`, `service`, `event` (the
message) and whatever is bound in context variables: the consumer binds its batch, `bind_event`
binds `event_id`, `correlation_id` and `council_id` of the message being handled. Records from the
standard library's `logging` (aiokafka, asyncpg, aiohttp) go through the same renderer.
"""
from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
import structlog
from careschemas.envelope import Envelope

# Libraries that are chatty at INFO about every rebalance and connection.
_QUIET_LIBRARIES = ("aiokafka", "kafka", "asyncio", "aiohttp.access")


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
