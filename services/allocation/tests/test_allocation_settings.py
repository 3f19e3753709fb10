"""`python -m allocation ...` with an ALLOCATION_* setting that cannot work names the variable and exits 2 when
it starts (before, only a wrong type was refused: a zero batch or pool size, a NaN stall time or a port the
relay cannot take went through), and `migrate` against a database it cannot reach is one line and exit 3."""
from __future__ import annotations

import socket

import pytest
from allocation.__main__ import main


@pytest.mark.parametrize(("name", "value", "says"), [
    ("ALLOCATION_MAX_RECORDS", "0", "greater than or equal to 1"),
    ("ALLOCATION_POOL_SIZE", "0", "greater than or equal to 1"),
    ("ALLOCATION_VIEWS_PARTITIONS", "0", "greater than or equal to 1"),
    ("ALLOCATION_VIEWS_STALL_S", "nan", "finite"),
    ("ALLOCATION_VIEWS_SESSION_TIMEOUT_S", "-1", "greater than or equal to 0"),
    ("ALLOCATION_HEALTH_PORT", "65535", "less than or equal to 65533"),
])
def test_a_setting_that_cannot_work_is_refused_at_start(monkeypatch, capsys, name, value, says) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as exit_:
        main(["migrate"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and name in err and says in err


def test_migrate_against_an_unreachable_database_is_exit_3(monkeypatch, capsys) -> None:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    monkeypatch.setenv("ALLOCATION_DATABASE_URL", f"postgresql://x@127.0.0.1:{port}/allocation")
    with pytest.raises(SystemExit) as exit_:
        main(["migrate"])
    assert exit_.value.code == 3 and capsys.readouterr().err.startswith("allocation: the database is unreachable:")
