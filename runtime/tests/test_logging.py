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


def test_a_kafka_client_repeating_itself_during_an_outage_logs_once_per_window(capsys, monkeypatch):
    """While the broker is down aiokafka logs the same error about every 100 ms per connection (a ledger
    worker wrote ~1,100 lines in a 15 s outage): each message is logged once per window, then once more
    with the count of repeats left out."""
    import careruntime.logging as runtime_logging

    now = [1000.0]
    monkeypatch.setattr(runtime_logging, "_monotonic", lambda: now[0])
    configure_logging("ledger", "INFO")
    kafka = logging.getLogger("aiokafka.conn")
    for _ in range(50):
        kafka.error('Unable connect to "%s": %s', "127.0.0.1:9092", "[Errno 111] Connection refused")
        logging.getLogger("aiokafka.cluster").warning("Unable to update metadata from [1]")
        now[0] += 0.1
    logging.getLogger("other").error("an error of another library is never held back")
    logging.getLogger("other").error("an error of another library is never held back")
    now[0] += runtime_logging.REPEAT_WINDOW_S
    kafka.error('Unable connect to "%s": %s', "127.0.0.1:9092", "[Errno 111] Connection refused")
    out = lines(capsys)
    assert [(line["event"], line.get("repeated")) for line in out] == [
        ('Unable connect to "127.0.0.1:9092": [Errno 111] Connection refused', None),
        ("Unable to update metadata from [1]", None),
        ("an error of another library is never held back", None),
        ("an error of another library is never held back", None),
        ('Unable connect to "127.0.0.1:9092": [Errno 111] Connection refused', 49),
    ]
