"""Log lines are JSON objects carrying the service and the bound event ids."""
from __future__ import annotations

import logging

import orjson
import pytest
import structlog
from careschemas.envelope import Envelope
from careschemas.examples import example_envelope

from careruntime.logging import bind_event, configure_logging, event_logging, unbind_event


@pytest.fixture(autouse=True)
def restore_logging():
    """configure_logging changes process-wide state; put it back for the rest of the session."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    quiet = {name: logging.getLogger(name).level for name in ("aiokafka", "kafka", "asyncio", "aiohttp.access")}
    yield
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, lvl in quiet.items():
        logging.getLogger(name).setLevel(lvl)


def lines(capsys):
    return [orjson.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]


def test_json_lines_with_service_level_time_and_event_ids(capsys):
    configure_logging("ledger", "INFO")
    envelope = Envelope.model_validate(example_envelope("allocation.PersonalBudgetRevised.v1"))
    log = structlog.get_logger("t")
    try:
        bind_event(envelope)
        log.info("posted", entries=2)
        unbind_event()
        with event_logging(envelope):
            log.debug("hidden at INFO")
        log.warning("after")
    finally:
        structlog.contextvars.clear_contextvars()
    out = lines(capsys)
    assert len(out) == 2
    first, second = out
    assert first["event"] == "posted" and first["entries"] == 2
    assert first["service"] == "ledger" and first["level"] == "info"
    assert first["timestamp"].endswith("Z")
    assert (first["event_id"], first["correlation_id"], first["council_id"]) == (
        envelope.id, envelope.correlationid, envelope.councilid)
    assert "event_id" not in second and second["level"] == "warning"


def test_stdlib_records_are_rendered_as_json_too(capsys):
    configure_logging("payments", "INFO")
    logging.getLogger("some.library").warning("disk %s", "low")
    logging.getLogger("aiokafka").info("chatty rebalance message")
    out = lines(capsys)
    assert len(out) == 1
    assert out[0]["event"] == "disk low" and out[0]["service"] == "payments" and out[0]["level"] == "warning"
