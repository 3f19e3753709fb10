"""`python -m ledger ...` with a LEDGER_* setting that cannot work: the process names the variable and exits
2 when it starts, instead of a pydantic traceback (a wrong type) or a worker that fails or stalls later (a
zero batch size fails aiokafka's getmany; a NaN patience is never over)."""
from __future__ import annotations

import pytest
from ledger.__main__ import main


@pytest.mark.parametrize(("name", "value", "says"), [
    ("LEDGER_MAX_RECORDS", "abc", "valid integer"),
    ("LEDGER_MAX_RECORDS", "0", "greater than or equal to 1"),
    ("LEDGER_PIPELINE_DEPTH", "-1", "greater than or equal to 1"),
    ("LEDGER_MAX_HELD_RECORDS", "-1", "greater than or equal to 1"),
    ("LEDGER_PROCESSED_CACHE_MAX", "0", "greater than or equal to 1"),
    ("LEDGER_POOL_SIZE", "0", "greater than or equal to 1"),
    ("LEDGER_MAX_PARTITION_FETCH_BYTES", "0", "greater than or equal to 1"),
    ("LEDGER_FETCH_MAX_WAIT_MS", "-5", "greater than or equal to 0"),
    ("LEDGER_ORDER_PATIENCE_S", "nan", "finite"),
    ("LEDGER_CHECKPOINT_INTERVAL_S", "-1", "greater than or equal to 0"),
    ("LEDGER_MAX_DEFER_SECONDS", "inf", "finite"),
    ("LEDGER_PROCESSED_LOOKUP", "sometimes", "'optimistic' or 'always'"),
    ("LEDGER_HEALTH_PORT", "65535", "less than or equal to 65533"),
    ("LEDGER_BUDGET_TOPICS", "allocation.events.v1", "JSON"),
])
def test_a_bad_setting_is_named_and_the_process_exits_2(monkeypatch, capsys, name, value, says) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as exit_:
        main(["verify"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert (name in err or name.removeprefix("LEDGER_").lower() in err) and says in err and "Traceback" not in err


def test_the_defaults_are_valid() -> None:
    from ledger.config import Settings
    assert Settings().max_held_records == 1


@pytest.mark.parametrize("command", ["verify", "migrate"])
def test_an_unreachable_database_is_exit_3_with_one_line(monkeypatch, capsys, command) -> None:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("LEDGER_DATABASE_URL", f"postgresql://x@127.0.0.1:{port}/ledger")
    with pytest.raises(SystemExit) as exit_:
        main([command])
    assert exit_.value.code == 3
    assert capsys.readouterr().err.startswith("ledger: the database is unreachable:")
