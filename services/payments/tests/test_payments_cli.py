"""`python -m payments run|statement|policy`: a bad argument, file or setting is refused with its reason and a
documented exit code (2: bad input, nothing sent; 3: Kafka or PostgreSQL unreachable, or no decision in time),
never with a traceback. No broker or database runs here: an unreachable one is a closed local port."""
from __future__ import annotations

import json
import socket

import pytest
from payments.__main__ import main

RUN = ["run", "create", "RUN-1", "--by", "finance.a", "--council", "E08000025"]


@pytest.fixture
def nowhere(monkeypatch) -> str:
    """Kafka and PostgreSQL settings that point at a local port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("PAYMENTS_DATABASE_URL", f"postgresql://x@127.0.0.1:{port}/payments")
    monkeypatch.setenv("PAYMENTS_KAFKA_BOOTSTRAP", f"127.0.0.1:{port}")
    return f"127.0.0.1:{port}"


@pytest.mark.parametrize(("argv", "argument"), [
    (["run", "create", "bad id!", "--by", "a", "--council", "C"], "run_id"),
    (["run", "create", "R" * 129, "--by", "a", "--council", "C"], "run_id"),
    (["run", "create", "R", "--by", "", "--council", "C"], "--by"),
    (["run", "approve", "R", "--by", "   ", "--council", "C"], "--by"),
    (["run", "approve", "R", "--by", "x" * 129, "--council", "C"], "--by"),
    (["run", "export", "R", "--council", "bad council"], "--council"),
    (["run", "export", "R", "--council", "C" * 33], "--council"),
    ([*RUN, "--timeout", "0"], "--timeout"),
    ([*RUN, "--timeout", "-5"], "--timeout"),
    ([*RUN, "--timeout", "nan"], "--timeout"),
    ([*RUN, "--timeout", "inf"], "--timeout"),
    ([*RUN, "--command-id", "has space"], "--command-id"),
    ([*RUN, "--due-on", "20260501"], "--due-on"),
    ([*RUN, "--effective-date", "2026-02-30"], "--effective-date"),
    (["statement", "import", "f.xml", "--council", "C/../D"], "--council"),
    (["policy", "bad council"], "council_id"),
])
def test_a_bad_argument_is_a_usage_error_before_anything_is_sent(nowhere, capsys, argv, argument) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    assert f"argument {argument}" in capsys.readouterr().err


def test_a_bad_file_is_refused_with_its_code_before_the_database_is_asked(nowhere, tmp_path, capsys) -> None:
    (tmp_path / "empty.xml").write_bytes(b"")
    assert main(["statement", "import", str(tmp_path / "empty.xml"), "--council", "C"]) == 2
    assert json.loads(capsys.readouterr().out)["error"] == "malformed_xml"


@pytest.mark.parametrize("argv", [
    [*RUN, "--timeout", "5"],
    ["policy", "E08000025"],
    ["policy", "E08000025", "surplus_weeks=12"],
])
def test_kafka_or_postgresql_unreachable_is_exit_3_with_a_message(nowhere, tmp_path, capsys, argv) -> None:
    assert main(argv) == 3
    out = capsys.readouterr()
    assert "Traceback" not in out.err and "unreachable" in (out.out + out.err)


def test_a_statement_whose_database_is_unreachable_is_exit_3_and_nothing_is_sent(nowhere, tmp_path, capsys) -> None:
    from caretools.bank_sim import camt053
    from datetime import date
    (tmp_path / "s.xml").write_bytes(camt053("S1", "GB33BUKB20201555555555", date(2026, 5, 5), [("E1", 100)]))
    assert main(["statement", "import", str(tmp_path / "s.xml"), "--council", "C"]) == 3
    doc = json.loads(capsys.readouterr().out)
    assert doc["error"] == "UNREACHABLE" and doc["sent"] == 0


def test_a_bad_setting_is_named_and_exit_2(monkeypatch, capsys) -> None:
    monkeypatch.setenv("PAYMENTS_RUN_PART_SIZE", "0")
    with pytest.raises(SystemExit) as exit_:
        main(["policy", "E08000025"])
    assert exit_.value.code == 2
    assert "PAYMENTS_RUN_PART_SIZE" in capsys.readouterr().err
