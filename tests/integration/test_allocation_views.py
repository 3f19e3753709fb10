"""The read-only budget view (`python -m allocation views`, faust-streaming) against the real broker:
it folds the events the allocation service published into its table, serves a budget's summary by
id (and only to its own council), counts an event relayed twice once, and comes back with the same
state after SIGKILL and restart (its table lives in a changelog topic)."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from datetime import date

import aiohttp
import orjson
import pytest
from careruntime.topics import delete_topics

from .test_allocation_crash import free_port
from .test_allocation_flow import (  # noqa: F401
    BUDGET,
    COUNCIL,
    PROVIDER,
    allocation,
    command,
    read_all,
    send,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]


class Views:
    def __init__(self, env: dict[str, str], log_path) -> None:
        self.env, self.log_path = env, log_path
        self.port = int(env["ALLOCATION_VIEWS_PORT"])
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "allocation", "views"], env={**os.environ, **self.env},
                                         stdout=log, stderr=subprocess.STDOUT)

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()

    async def get(self, path: str) -> tuple[int, dict]:
        url = f"http://127.0.0.1:{self.port}{path}"
        async with aiohttp.ClientSession() as session, session.get(url, timeout=aiohttp.ClientTimeout(total=5)) as r:
            text = await r.text()
            try:
                return r.status, orjson.loads(text)
            except orjson.JSONDecodeError:
                return r.status, {"text": text}

    async def summary_when(self, path: str, predicate, timeout_s: float = 90) -> dict:
        deadline = asyncio.get_running_loop().time() + timeout_s
        last = None
        while asyncio.get_running_loop().time() < deadline:
            assert self.proc.poll() is None, f"views exited with {self.proc.returncode}; see {self.log_path}"
            try:
                status, body = await self.get(path)
                last = (status, body)
                if status == 200 and predicate(body):
                    return body
            except (TimeoutError, aiohttp.ClientError):
                pass  # not serving yet (starting, or recovering its table)
            await asyncio.sleep(0.5)
        raise AssertionError(f"view never satisfied the predicate; last answer {last}; see {self.log_path}, "
                             f"which ends:\n{self.log_tail()}")

    def log_tail(self, lines: int = 80) -> str:
        """The end of the worker's log, put in a failure message: CI keeps the output, not the files."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError as exc:
            return f"(unreadable: {exc})"


def views_of(settings, tmp_path) -> tuple[Views, str]:
    """A views process (not started) over the test's events topic, and its faust app id."""
    app_id = f"{settings.events_topic.split('.', 1)[0]}.allocation-views"
    views = Views({"ALLOCATION_KAFKA_BOOTSTRAP": settings.kafka_bootstrap, "ALLOCATION_EVENTS_TOPIC": settings.events_topic,
                   "ALLOCATION_VIEWS_APP_ID": app_id, "ALLOCATION_VIEWS_PORT": str(free_port()),
                   "ALLOCATION_VIEWS_HOST": "127.0.0.1", "ALLOCATION_VIEWS_PARTITIONS": "3",
                   "ALLOCATION_VIEWS_SESSION_TIMEOUT_S": "6", "ALLOCATION_LOG_LEVEL": "WARNING",
                   "ALLOCATION_VIEWS_DATA_DIR": str(tmp_path / "views-data")}, tmp_path / "views.log")
    return views, app_id


async def _changelog_holds(bootstrap: str, topic: str, key: bytes, marker: bytes, timeout_s: float = 30) -> None:
    """Wait until the latest changelog record of `key` contains `marker`."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        latest = [r.value for r in await read_all(bootstrap, topic) if r.key == key][-1:]
        if latest and marker in latest[0]:
            return
        assert asyncio.get_running_loop().time() < deadline, f"{topic} never held {marker!r} for {key!r}"
        await asyncio.sleep(0.2)


async def test_the_budget_view_serves_summaries_that_survive_a_restart(allocation, topics, tmp_path):  # noqa: F811
    settings, pool, start = allocation
    service = start()
    await send(settings.kafka_bootstrap, settings.commands_topic, PROVIDER)
    await service.drained()
    await send(settings.kafka_bootstrap, settings.commands_topic, BUDGET)
    await service.drained()

    views, app_id = views_of(settings, tmp_path)
    path = f"/budgets/{COUNCIL}/PB-1"
    try:
        views.start()
        summary = await views.summary_when(path, lambda b: b["events_applied"] == 10)
        committed = await pool.fetchval("SELECT committed_pence FROM budgets WHERE budget_id = 'PB-1'")
        assert summary["status"] == "deceased" and summary["died_on"] == "2026-09-14"
        assert summary["agreed_pence"] == 5_200_000 and summary["indicative_pence"] == 5_000_000
        assert summary["funding"] == {"council_pence": 5_200_000 - 2_000_000 - 2_500 * 52, "icb_pence": 2_000_000,
                                      "pooled_pence": 0, "contribution_annual_pence": 130_000,
                                      "contribution_weekly_pence": 2_500, "contribution_mode": "netted",
                                      "agreement_ref": "S75-2026-03"}
        assert summary["committed_pence"] == committed
        assert summary["headroom_pence"] == 5_200_000 + 50_000 - committed
        assert [(o["order_id"], o["status"], o["end_date"]) for o in summary["orders"]] == [
            ("SO-1", "ended", "2026-09-14")]
        assert (await views.get("/budgets/OTHER-COUNCIL/PB-1"))[0] == 404

        # An event relayed twice (same id, same bytes) counts once; a later event of the budget still applies.
        agreed = next(r for r in await read_all(settings.kafka_bootstrap, settings.events_topic)
                      if r.key == b"PB-1" and b'"c-agree.e1"' in r.value)
        await send(settings.kafka_bootstrap, settings.events_topic, [(agreed.key, agreed.value)])
        await send(settings.kafka_bootstrap, settings.commands_topic, [
            command("EndPersonalBudget", "c-end", budget_id="PB-1", end_date=date(2026, 9, 30), reason="Person died")])
        await service.drained()
        summary = await views.summary_when(path, lambda b: b["ended_on"] is not None)
        assert summary["events_applied"] == 11

        # Restart on an empty events topic: whatever it serves now came from the table's changelog. A view
        # can serve a change before faust has written it to the changelog (seen once, in a full run under
        # load: served 11 events, restored 10), so the kill waits until the changelog holds what was
        # served: this tests the restore, not that race.
        await _changelog_holds(settings.kafka_bootstrap, f"{app_id}-budget_summaries-changelog", b"PB-1", b'"c-end.e1"')
        views.kill()
        views.env["ALLOCATION_EVENTS_TOPIC"] = (await topics(["allocation.events.v1"]))["allocation.events.v1"]
        views.start()
        restored = await views.summary_when(path, lambda b: b["events_applied"] >= 11)
        assert restored == summary
        changelog = await read_all(settings.kafka_bootstrap, f"{app_id}-budget_summaries-changelog")
        assert {r.key for r in changelog} == {b"PB-1"}  # keyed like the events topic, so routing finds it
    finally:
        views.stop()
        await delete_topics(settings.kafka_bootstrap, [f"{app_id}-budget_summaries-changelog",
                                                       f"{app_id}-__assignor-__leader"])
