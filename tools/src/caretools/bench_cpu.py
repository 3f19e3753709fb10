"""CPU seconds used by the stack's own processes (the PostgreSQL cluster, the Kafka broker), from /proc.

On a shared, noisy machine wall-clock rates move with whatever else runs; the CPU each component
spends per event moves much less, and tells where a dedicated machine's cores would go.
Linux only; where a process cannot be found its figure is None.
"""
from __future__ import annotations

import os
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, utime+stime seconds) of a process."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()  # after "pid (comm) "
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICK


def tree_cpu(root: int | None) -> float | None:
    """CPU seconds of `root` and its direct children (a postmaster and its backends and workers)."""
    if root is None:
        return None
    own = _stat(root)
    if own is None:
        return None
    total = own[1]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != root:
            st = _stat(int(entry.name))
            if st is not None and st[0] == root:
                total += st[1]
    return total


def _pid_file(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def stack_pids(repo: Path, pg_data_directory: str | None) -> dict[str, int | None]:
    """The broker's pid (from stack.sh's pid file under STACK_DIR) and the postmaster's (its data dir)."""
    stack_dir = Path(os.environ.get("STACK_DIR") or repo / ".local" / "stack")
    pg = _pid_file(Path(pg_data_directory) / "postmaster.pid") if pg_data_directory else None
    return {"postgres": pg, "kafka": _pid_file(stack_dir / "kafka" / "kafka.pid")}


class StackCpu:
    """CPU seconds of PostgreSQL and Kafka between `start()` and `stop()`."""

    def __init__(self, pids: dict[str, int | None]) -> None:
        self.pids = pids
        self._t0: dict[str, float | None] = {}
        self.seconds: dict[str, float | None] = {}

    def start(self) -> None:
        self._t0 = {name: tree_cpu(pid) for name, pid in self.pids.items()}

    def stop(self) -> None:
        for name, pid in self.pids.items():
            now, before = tree_cpu(pid), self._t0.get(name)
            self.seconds[name] = None if now is None or before is None else round(now - before, 2)

    @classmethod
    async def of_stack(cls, repo: Path, conn) -> StackCpu:
        """For the stack behind `conn` (an asyncpg connection to its PostgreSQL) and the broker beside it."""
        return cls(stack_pids(repo, await conn.fetchval("SHOW data_directory")))
