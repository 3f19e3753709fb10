"""ledger.native: the compiled decision code is used only when built from the source beside it, and the
domain's tests pass on the Python source as well as on the compiled modules."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from ledger import native

TESTS = Path(__file__).resolve().parent


def _file_of(module: str, **env: str) -> str:
    code = f"import importlib; print(importlib.import_module({module!r}).__file__)"
    return subprocess.run([sys.executable, "-c", code], env={**os.environ, **env}, check=True,
                          capture_output=True, text=True).stdout.strip()


def test_a_stamp_of_other_source_or_none_means_the_source_is_used(tmp_path, monkeypatch):
    monkeypatch.delenv(native.PURE_ENV, raising=False)
    monkeypatch.setattr(native, "STAMP", tmp_path / "native-build.json")
    assert native.decide() == "source"  # nothing built
    stamp = {"python": sys.implementation.cache_tag, "modules": native.source_digests()}
    native.STAMP.write_text(json.dumps(stamp))
    with monkeypatch.context() as built:
        built.setattr(native, "_extension_of", lambda module: native.source_of(module))  # every file there
        assert native.decide() == "compiled"
        built.setattr(native, "_extension_of", lambda module: None if module.endswith("wire") else module)
        assert native.decide() == "source (incomplete build)"  # a stamp, but a module's extension is missing
    stamp["modules"]["ledger.domain.rules"] = "0" * 64  # rules.py changed since the build
    native.STAMP.write_text(json.dumps(stamp))
    assert native.decide() == "source (stale build)"
    native.STAMP.write_text(json.dumps({**stamp, "modules": native.source_digests(), "python": "cpython-312"}))
    assert native.decide() == "source (stale build)"
    native.STAMP.write_text("{not json")
    assert native.decide() == "source"


def test_the_switch_forces_the_source(monkeypatch):
    monkeypatch.setenv(native.PURE_ENV, "1")
    assert native.decide() == "source (LEDGER_PURE_PYTHON)"


def test_every_module_of_the_group_comes_from_its_source_when_not_compiled():
    for module in native.MODULES:
        assert _file_of(module, LEDGER_PURE_PYTHON="1") == str(native.source_of(module))


def test_every_module_of_the_group_is_what_the_process_decided():
    """Built from this source (as `make` leaves it): every module compiled; otherwise every one Python."""
    compiled = native.decide() == "compiled"
    assert native.mode() == native.decide()
    for module in native.MODULES:
        origin = _file_of(module)
        assert origin.endswith(".so") if compiled else origin == str(native.source_of(module)), module


def test_the_domain_tests_pass_on_the_python_source_too():
    """The rest of this folder runs on whichever the process chose (compiled after `make`); run it again
    on the Python source, so both ways of running the same code are tested."""
    others = [str(p) for p in sorted(TESTS.glob("test_*.py")) if p.name != Path(__file__).name]
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *others],
                            env={**os.environ, native.PURE_ENV: "1"}, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert " passed" in result.stdout.splitlines()[-1]


def test_a_module_outside_the_group_always_comes_from_its_source():
    """An extension module of a ledger module not in the group (left by an older build) is never used."""
    for compiled in (True, False):
        spec = native._SourceFinder(compiled=compiled).find_spec("ledger.adapters.repository")
        assert spec is not None and spec.origin == str(native.source_of("ledger.adapters.repository"))
    assert native._SourceFinder(compiled=True).find_spec("ledger.domain.rules") is None  # the compiled one
    assert native._SourceFinder(compiled=False).find_spec("ledger.domain.rules").origin.endswith("rules.py")
    assert native._SourceFinder(compiled=True).find_spec("ledger.domain") is None  # packages: as usual
    assert native._SourceFinder(compiled=True).find_spec("careruntime.codec") is None


def test_working_state_is_dumped_without_reading_freed_memory():
    """state_codec.dump on every kind of state, with amounts too large for CPython's small-int cache, under
    the debug allocator (freed memory overwritten at once): the text is exactly the fields in order.
    orjson given a compiled dataclass itself read each int after releasing it (state_codec.dump)."""
    script = """
import json
from datetime import date
from ledger.adapters.state_codec import dump
from ledger.domain.model import BudgetTerms, Hold, OrderTerms, Recovery, ScheduleTerms
big = 10 ** 9 + 7
objs = [BudgetTerms("PB-1", "C1", date(2026, 4, 1), date(2027, 3, 31), big, authorised_limit=big + 1),
        OrderTerms("SO-1", "PB-1", "PR-1", big, 3, date(2026, 4, 1), date(2027, 3, 31), committed=big),
        ScheduleTerms("DP-1", "PB-1", big, 4, date(2026, 4, 1), date(2027, 3, 31), big * 13),
        Hold("P-1", "C1", "C1/pending/PB-1", (("C1/budget/PB-1", big),), big, "reserved", "s:1"),
        Recovery("R-1", "PB-1", big, recovered=big - 1)]
for _ in range(200):
    texts = [dump(obj) for obj in objs]
print(json.dumps(texts))
"""
    result = subprocess.run([sys.executable, "-c", script], env={**os.environ, "PYTHONMALLOC": "pymalloc_debug"},
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    texts = [json.loads(text) for text in json.loads(result.stdout)]
    big = 10 ** 9 + 7
    assert texts[0] == {"budget_id": "PB-1", "council_id": "C1", "start_date": "2026-04-01", "end_date": "2027-03-31",
                        "total": big, "status": "active", "died_on": None, "closed_on": None,
                        "authorised_limit": big + 1, "contribution_annual": 0}
    assert texts[3]["sources"] == [["C1/budget/PB-1", big]] and texts[3]["amount"] == big
    assert [t["recovered"] for t in texts if "recovered" in t] == [big - 1]
