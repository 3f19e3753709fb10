"""Optional sampling profile of the benchmark's measured window, with py-spy (not a dependency).

`Profiler(path).start()` attaches `py-spy record` to this very process (needs ptrace rights; as root
or with kernel.yama.ptrace_scope=0) and writes collapsed stacks ("raw" format, one line per stack
with its sample count) on `stop()`. `summarise(path)` turns that file into the two tables the
performance notes quote: where the samples are spent (self time) and which of our frames hold them
(inclusive time). A profiled run's figures are slower than an unprofiled one's; quote them for shares,
not for rates.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path


class Profiler:
    def __init__(self, path: Path, rate: int = 200) -> None:
        self.path, self.rate = path, rate
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        if not Path(exe).exists():
            raise SystemExit("--profile needs py-spy: .venv/bin/pip install py-spy")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [exe, "record", "--pid", str(os.getpid()), "--rate", str(self.rate), "--format", "raw",
             "--output", str(self.path), "--nonblocking"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(0.5)  # let it attach before the measured window opens
        if self.proc.poll() is not None:
            raise SystemExit(f"py-spy failed: {self.proc.stderr.read().decode()[-500:]}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _frames(stack: str) -> list[str]:
    # raw format: "thread (pid);frame;frame;... count", each frame "func (file.py:line)"
    return [f for f in stack.split(";")[1:] if f]


def _short(frame: str) -> str:
    """`func (path/to/pkg/mod.py:12)` -> `pkg/mod.py:func` (line numbers dropped, so a function is one row)."""
    func, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    parts = Path(path).parts
    for anchor in ("site-packages", "src", "lib"):
        if anchor in parts:
            parts = parts[len(parts) - parts[::-1].index(anchor):]
            break
    return f"{'/'.join(parts[-2:])}:{func}"


def summarise(path: Path, top: int = 20) -> dict:
    """Self and inclusive sample shares per function, from a py-spy raw (collapsed) file."""
    self_time: Counter = Counter()
    inclusive: Counter = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [_short(f) for f in _frames(stack)]
        if not frames:
            continue
        total += n
        self_time[frames[-1]] += n
        for name in set(frames):
            inclusive[name] += n
    share = lambda c: [(name, round(100 * n / total, 1)) for name, n in c.most_common(top)]
    return {"samples": total, "self": share(self_time), "inclusive": share(inclusive)}


def render(summary: dict) -> str:
    lines = [f"profile: {summary['samples']:,} samples of the worker's CPU (idle excluded)",
             "  self time (%)                                              inclusive (%)"]
    for (s_name, s_pct), (i_name, i_pct) in zip(summary["self"], summary["inclusive"]):
        lines.append(f"  {s_pct:5.1f}  {s_name[:50]:50}   {i_pct:5.1f}  {i_name[:50]}")
    return "\n".join(lines)


if __name__ == "__main__":
    print(render(summarise(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 25)))
