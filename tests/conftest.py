"""Fixtures for the integration and end-to-end tests under tests/: the real Kafka broker and PostgreSQL.

Owns the test session's own stack (deploy/local/stack.sh with STACK_DIR=.local/test-stack and ports
19092/19093/55433, so it never collides with the developer's demo stack on 9092/55432) and the
per-test isolation on top of it:

- `stack`     session: starts the test stack lazily, only when a test asks for it; the last test
              session to finish stops it, if a test session started it. Gives `.bootstrap`,
              `.pg_port`, `.dsn(db)`, `.repo_root`.
- `fresh_db`  `dsn = await fresh_db("ledger")`: a brand-new database with services/ledger/migrations
              applied (or `fresh_db("x", migrations_dir=path)`); dropped after the test.
- `topics`    `names = await topics(["ledger.in"], partitions=3)`: uniquely prefixed topics for one
              test, as {logical name: real name}; deleted after the test.
- `postgres_outage`  `async with postgres_outage(): ...`: the stack's PostgreSQL is stopped inside the
              block (connections refused, as in a failover) and started again when it ends, however
              it ends, and answers again before the test goes on.

Tests that use any of them are marked `integration` automatically.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import re
import subprocess
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path

import asyncpg
import pytest

from careruntime.migrate import migrate
from careruntime.stackinfo import StackInfo, postgres_answers
from careruntime.topics import TopicSpec, delete_topics, ensure_topics

REPO_ROOT = Path(__file__).resolve().parents[1]
STACK_SCRIPT = REPO_ROOT / "deploy" / "local" / "stack.sh"
# Overridable (TEST_KAFKA_PORT, TEST_KAFKA_CONTROLLER_PORT, TEST_PG_PORT) so that two checkouts can
# run their suites side by side on one machine.
TEST_STACK_ENV = {
    "STACK_DIR": str(REPO_ROOT / ".local" / "test-stack"),
    "KAFKA_PORT": os.environ.get("TEST_KAFKA_PORT", "19092"),
    "KAFKA_CONTROLLER_PORT": os.environ.get("TEST_KAFKA_CONTROLLER_PORT", "19093"),
    "PG_PORT": os.environ.get("TEST_PG_PORT", "55433"),
}
STACK_FIXTURES = {"stack", "fresh_db", "topics", "postgres_outage"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if STACK_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)


def _stack(command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(STACK_SCRIPT), command],
        env={**os.environ, **TEST_STACK_ENV},
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=600,
    )


@contextlib.contextmanager
def _sessions_lock(stack_dir: Path):
    stack_dir.mkdir(parents=True, exist_ok=True)
    with open(stack_dir / ".sessions.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _live_leases(leases: Path) -> list[Path]:
    live = []
    for lease in leases.glob("*"):
        try:
            os.kill(int(lease.name), 0)
            live.append(lease)
        except (ValueError, ProcessLookupError):
            lease.unlink(missing_ok=True)  # a session that died without cleaning up
        except PermissionError:
            live.append(lease)
    return live


@pytest.fixture(scope="session")
def stack():
    """The test stack, shared by concurrent test sessions on this machine.

    Each session holds a lease (a file named by its pid). The stack is stopped by the last session to
    leave, and only if a test session started it: a test stack someone started by hand stays up.
    """
    stack_dir = Path(TEST_STACK_ENV["STACK_DIR"])
    leases = stack_dir / "sessions"
    started_marker = stack_dir / "started-by-tests"
    with _sessions_lock(stack_dir):
        if _stack("status").returncode != 0:
            result = _stack("up")
            if result.returncode != 0:
                pytest.fail(
                    f"deploy/local/stack.sh up failed (exit {result.returncode}):\n"
                    f"{result.stdout}\n{result.stderr}",
                    pytrace=False,
                )
            started_marker.touch()
        leases.mkdir(exist_ok=True)
        (leases / str(os.getpid())).touch()
    yield StackInfo(
        repo_root=REPO_ROOT,
        kafka_port=int(TEST_STACK_ENV["KAFKA_PORT"]),
        pg_port=int(TEST_STACK_ENV["PG_PORT"]),
    )
    with _sessions_lock(stack_dir):
        (leases / str(os.getpid())).unlink(missing_ok=True)
        if not _live_leases(leases) and started_marker.exists():
            result = _stack("down")
            started_marker.unlink(missing_ok=True)
            if result.returncode != 0:
                print(f"test stack did not stop cleanly:\n{result.stdout}\n{result.stderr}")


def _database_name(service: str) -> str:
    return f"t_{re.sub(r'[^a-z0-9]+', '_', service.lower())}_{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def fresh_db(stack: StackInfo):
    created: list[str] = []

    async def make(service: str, migrations_dir: str | Path | None = None) -> str:
        folder = Path(migrations_dir) if migrations_dir else stack.repo_root / "services" / service / "migrations"
        name = _database_name(service)
        created.append(name)
        dsn = stack.dsn(name)
        await asyncio.to_thread(migrate, dsn, folder)  # yoyo and psycopg are synchronous
        return dsn

    yield make

    if created:
        try:
            conn = await asyncpg.connect(stack.dsn("postgres"), timeout=10)
        except (OSError, asyncpg.PostgresError):
            return
        try:
            for name in created:
                try:
                    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                except asyncpg.PostgresError:
                    pass  # best effort: a leftover test database harms nothing
        finally:
            await conn.close()


@pytest.fixture
async def topics(stack: StackInfo):
    created: list[str] = []

    async def make(
        logical_names: Iterable[str] | str,
        partitions: int = 3,
        config: Mapping[str, str] | None = None,
    ) -> dict[str, str]:
        if isinstance(logical_names, str):
            logical_names = [logical_names]
        prefix = f"t{uuid.uuid4().hex[:10]}."
        real = {name: prefix + name for name in logical_names}
        specs = [TopicSpec(r, partitions, 1, dict(config or {})) for r in real.values()]
        await ensure_topics(stack.bootstrap, specs)
        created.extend(real.values())
        return real

    yield make

    try:
        await delete_topics(stack.bootstrap, created)
    except Exception:
        pass  # best effort: uniquely named leftovers never meet another test


@pytest.fixture
def postgres_outage(stack: StackInfo):
    @contextlib.asynccontextmanager
    async def outage():
        result = await asyncio.to_thread(_stack, "postgres-down")
        try:
            assert result.returncode == 0, f"stack.sh postgres-down failed:\n{result.stdout}\n{result.stderr}"
            yield
        finally:
            result = await asyncio.to_thread(_stack, "up")  # starts only what is not running
            assert result.returncode == 0, f"stack.sh up failed:\n{result.stdout}\n{result.stderr}"
            assert await asyncio.to_thread(postgres_answers, stack.dsn("postgres"), 10), "PostgreSQL did not come back"

    return outage
