"""Makes the contract tests importable without an installed package: the source tree and this folder
(for the `schemas_testkit` helpers) go on sys.path when needed."""
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
for path in (HERE, HERE.parent / "src"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))
