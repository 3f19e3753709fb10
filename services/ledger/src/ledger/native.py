"""The ledger's decision code as mypyc-compiled extension modules, and never a stale one.

Deciding events (`ledger.domain`: the posting rules, the invariants, the chain) and turning the decisions
into rows (`ledger.adapters`' CPU-only modules) are about a third of the worker's CPU, all of it the
Python interpreter (docs/performance.md). mypyc compiles the same source, type-checked, to C extension
modules that run it faster (`MODULES`). `make` builds them next to the
source (`python -m ledger native-build`), with a stamp of the source they were built from.

Python would import an extension module in preference to its `.py`, even an out-of-date one, so
`ledger/__init__.py` calls `install()` first, which decides once per process:

- the stamp matches every compiled module's source, byte for byte: the compiled modules are used;
- no stamp, a different source, or LEDGER_PURE_PYTHON=1: every module of the group is imported from its
  `.py` (never some of each: compiled modules call each other directly, not through the module).

`mode()` says which ("compiled", or "source" with the reason when there is one: "stale build",
"incomplete build", "LEDGER_PURE_PYTHON");
the worker logs it at start and the bench prints it. Both run the same code and the tests run both.
"""
from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import json
import os
import sys
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
# The modules compiled, as one group: what decides a batch and turns it into rows and COPY text, CPU
# only, the batch's business-time ordering and its per-record loops (service.deciding). Left as
# Python: ledger.domain's __init__ and `invariants` (an AssertionError subclass, which mypyc cannot
# compile), and everything that does I/O (repository, relay, the rest of the service, entrypoints). (`journal_copy` was left out while it made
# each row with an f-string, which ran 1.8x slower compiled; a join per row runs ~1.9x faster.)
MODULES = tuple(f"ledger.{name}" for name in (
    "domain.accounts", "domain.chain", "domain.ledger", "domain.model", "domain.reasons", "domain.rules",
    "domain.rules_allocation", "domain.rules_common", "domain.rules_payments",
    "adapters.array_literal", "adapters.batch_sql", "adapters.journal_copy", "adapters.snapshot", "adapters.sqltext",
    "adapters.state_codec", "adapters.wire", "service.deciding", "service.ordering"))
GROUP = "ledger.compiled"  # the group's shared library: ledger/compiled__mypyc.*.so
STAMP = PACKAGE_DIR / "native-build.json"
PURE_ENV = "LEDGER_PURE_PYTHON"

_mode: str | None = None


def source_of(module: str) -> Path:
    return PACKAGE_DIR.joinpath(*module.split(".")[1:]).with_suffix(".py")


def source_digests() -> dict[str, str]:
    return {module: hashlib.sha256(source_of(module).read_bytes()).hexdigest() for module in MODULES}


def decide() -> str:
    """What `install` would choose now (the build may have changed since this process decided)."""
    if os.environ.get(PURE_ENV) == "1":
        return "source (LEDGER_PURE_PYTHON)"
    try:
        stamp = json.loads(STAMP.read_text())
    except (OSError, ValueError):
        return "source"
    if stamp.get("modules") != source_digests() or stamp.get("python") != sys.implementation.cache_tag:
        return "source (stale build)"
    if not all(_extension_of(module) for module in (*MODULES, GROUP + "__mypyc")):
        return "source (incomplete build)"
    return "compiled"


def _extension_of(module: str) -> Path | None:
    """The extension module file of `module` beside its source, if there is one for this Python."""
    base = PACKAGE_DIR.joinpath(*module.split(".")[1:])
    return next((path for suffix in importlib.machinery.EXTENSION_SUFFIXES
                 if (path := base.with_name(base.name + suffix)).is_file()), None)


class _SourceFinder:
    """Imports a ledger module from its `.py`, ahead of any extension module beside it, unless it is one
    of the group and the group is compiled from the current source: an extension module left over from
    an older build (of a module no longer in the group, say) is never imported."""

    def __init__(self, compiled: bool) -> None:
        self.compiled = compiled

    def find_spec(self, fullname, path=None, target=None):
        if not fullname.startswith("ledger.") or (self.compiled and fullname in MODULES):
            return None
        source = source_of(fullname)
        if not source.is_file():  # a package, or not ours: the usual finders
            return None
        return importlib.util.spec_from_file_location(
            fullname, source, loader=importlib.machinery.SourceFileLoader(fullname, str(source)))


def install() -> str:
    """Decide, once, whether the group runs compiled, and make imports follow; returns `mode()`."""
    global _mode
    if _mode is None:
        _mode = decide()
        sys.meta_path.insert(0, _SourceFinder(compiled=_mode == "compiled"))
    return _mode


def mode() -> str:
    return install()


def build() -> None:
    """Compile the group in place with mypyc (needs mypy and a C compiler), then write the stamp."""
    import tempfile

    from mypyc.build import mypycify
    from setuptools import setup

    src = PACKAGE_DIR.parent
    STAMP.unlink(missing_ok=True)  # a build that fails half-way leaves no stamp: the source is used
    for old in PACKAGE_DIR.rglob("*.so"):
        old.unlink()
    digests = source_digests()  # of the source compiled: an edit during the build makes the stamp stale
    files = [str(source_of(module).relative_to(src)) for module in MODULES]
    here = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="ledger-native-") as scratch:
        os.chdir(src)
        try:
            extensions = mypycify([f"--cache-dir={scratch}/mypy", *files], separate=[(files, GROUP)],
                                  target_dir=f"{scratch}/c", opt_level="3")
            setup(name="ledger-native", ext_modules=extensions,
                  script_args=["-q", "build_ext", "--inplace", "--build-temp", f"{scratch}/build",
                                       "--build-lib", f"{scratch}/lib"])
        finally:
            os.chdir(here)
    STAMP.write_text(json.dumps({"python": sys.implementation.cache_tag, "modules": digests}, indent=1))
