"""Can the allocation tests fail? Each mutant breaks one rule of issue 3 in a throw-away copy of
`services/allocation/src/allocation` (and of careruntime and the ledger, for the few mutants there), runs the tests against the copy (it comes first on PYTHONPATH, so
the shared working tree is never touched) and records whether any test failed.

    .venv/bin/python services/allocation/tests/mutation_matrix.py            # unit mutants (~3 min)
    .venv/bin/python services/allocation/tests/mutation_matrix.py --integration   # the slow ones too
    .venv/bin/python services/allocation/tests/mutation_matrix.py --only R3.2 R5.1

Prints one markdown row per mutant: id, rule, mutation, the tests that failed ("killed") or
"SURVIVED". The mutants themselves are in `mutants.py`. Not collected by pytest (no `test_` prefix).
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from mutants import MUTANTS, UNIT, Mutant

ROOT = Path(__file__).resolve().parents[3]
PACKAGES = {"allocation": ROOT / "services" / "allocation" / "src" / "allocation",
            "careruntime": ROOT / "runtime" / "src" / "careruntime",
            "ledger": ROOT / "services" / "ledger" / "src" / "ledger"}


def mutated_copy(mutant: Mutant, into: Path) -> None:
    for name, source in PACKAGES.items():
        shutil.copytree(source, into / name, ignore=shutil.ignore_patterns("__pycache__"))
    for path, old, new in mutant.edits:
        target = into / (path if path.split("/", 1)[0] in PACKAGES else f"allocation/{path}")
        text = target.read_text(encoding="utf-8")
        assert text.count(old) == 1, f"{mutant.id}: {old!r} occurs {text.count(old)} times in {path}"
        target.write_text(text.replace(old, new), encoding="utf-8")


def run(mutant: Mutant, timeout_s: float) -> tuple[str, list[str]]:
    """('killed', failed tests) | ('SURVIVED', []) | ('error', output tail)."""
    with tempfile.TemporaryDirectory(prefix="allocation-mutant-") as tmp:
        try:
            mutated_copy(mutant, Path(tmp))
        except AssertionError as exc:  # the source moved on: the mutant no longer applies
            return "error", [str(exc)]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [tmp, os.environ.get("PYTHONPATH")])),
               "PYTHONDONTWRITEBYTECODE": "1"}
        code = "import allocation, careruntime, ledger; print(allocation.__file__, careruntime.__file__, ledger.__file__)"
        probe = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True,
                               check=True)
        assert all(f.startswith(tmp) for f in probe.stdout.split()), f"a mutant copy is not imported: {probe.stdout}"
        try:
            done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rf",
                                   *mutant.tests], env=env, cwd=ROOT, capture_output=True, text=True,
                                  timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired:
            return "killed", ["(timed out: the tests never finished)"]
    failed = sorted({short(line) for line in done.stdout.splitlines()
                     if line.startswith(("FAILED ", "ERROR ")) and "::" in line.split()[1]})
    if done.returncode == 0:
        return "SURVIVED", []
    if done.returncode == 1 and failed:
        return "killed", failed
    return "error", [done.stdout[-1500:] + done.stderr[-1500:]]


def short(line: str) -> str:
    node = line.split()[1]
    file, _, name = node.partition("::")
    name = re.sub(r"\[.*", "[…]", name)
    return f"{Path(file).stem}::{name}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--integration", action="store_true", help="also run the mutants checked by integration tests")
    parser.add_argument("--only", nargs="*", help="mutant ids")
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    chosen = [m for m in MUTANTS if (args.only and m.id in args.only)
              or (not args.only and (args.integration or m.tests == UNIT))]
    print("| id | rule | mutation | result | failing tests |\n| --- | --- | --- | --- | --- |")
    survivors = 0
    for mutant in chosen:
        result, detail = run(mutant, args.timeout)
        survivors += result != "killed"
        shown = "<br>".join(detail[:4]) + (f"<br>… {len(detail) - 4} more" if len(detail) > 4 else "")
        print(f"| {mutant.id} | {mutant.rule} | {mutant.what} | {result} | {shown} |", flush=True)
    print(f"\n{len(chosen) - survivors} of {len(chosen)} mutants killed", flush=True)
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
