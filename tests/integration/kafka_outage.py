"""Stopping and starting the TEST stack's Kafka broker (only the broker: its data folder and PostgreSQL
stay), for the outage tests. `broker_outage()` always starts the broker again and waits until it answers
a metadata request, even when the test body fails, so later tests meet a working broker."""
from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

import aiohttp
from aiokafka.client import AIOKafkaClient
from careruntime.stackinfo import StackInfo, wait_for_kafka

from conftest import STACK_SCRIPT, TEST_STACK_ENV  # tests/conftest.py: the test stack it runs


def broker_pid() -> int:
    return int((Path(TEST_STACK_ENV["STACK_DIR"]) / "kafka" / "kafka.pid").read_text().strip())


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"  # a zombie has exited
    except (FileNotFoundError, IndexError):
        return False


async def stop_broker(how: signal.Signals = signal.SIGTERM, timeout_s: float = 60) -> None:
    """Stop the broker process (SIGTERM: a clean shutdown; SIGKILL: a crash) and wait until it is gone."""
    pid = broker_pid()
    os.kill(pid, how)
    deadline = time.monotonic() + timeout_s
    while _alive(pid):
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
        await asyncio.sleep(0.1)


async def start_broker(stack: StackInfo) -> None:
    """`stack.sh up` starts what is not running (the broker, on its kept data) and waits until it answers."""
    result = await asyncio.to_thread(subprocess.run, [str(STACK_SCRIPT), "up"], env={**os.environ, **TEST_STACK_ENV},
                                     capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300)
    if result.returncode != 0:
        port = TEST_STACK_ENV["KAFKA_PORT"]
        sockets = subprocess.run(["ss", "-tanp"], capture_output=True, text=True).stdout.splitlines()
        raise AssertionError(f"the broker did not start again:\n{result.stderr[-1500:]}\nsockets on :{port}:\n"
                             + "\n".join(line for line in sockets if f":{port} " in line))
    await wait_for_kafka(stack.bootstrap, timeout_s=60)


@contextlib.asynccontextmanager
async def broker_outage(stack: StackInfo, how: signal.Signals = signal.SIGTERM):
    """The broker is down inside the block and up again (answering metadata) after it, whatever happens.
    SIGTERM stops it cleanly, SIGKILL crashes it (both refuse connections then); SIGSTOP freezes it, so
    connections hang as behind a network partition, and SIGCONT thaws it."""
    if how == signal.SIGSTOP:
        os.kill(broker_pid(), signal.SIGSTOP)
    else:
        await stop_broker(how)
    try:
        yield
    finally:
        if how == signal.SIGSTOP:
            os.kill(broker_pid(), signal.SIGCONT)
        else:
            await start_broker(stack)
        await brokers_listed(stack.bootstrap)


async def brokers_listed(bootstrap: str, timeout_s: float = 60) -> None:
    """Until a metadata answer lists the broker: a thawed broker answers one at once, but lists no broker in
    it until it has registered with the controller again (KRaft fenced it while it was frozen)."""
    await wait_for_kafka(bootstrap, timeout_s=timeout_s)
    deadline = time.monotonic() + timeout_s
    client = AIOKafkaClient(bootstrap_servers=bootstrap)
    try:
        while True:
            with contextlib.suppress(Exception):
                if not client._sync_task:
                    await client.bootstrap()
                if (await client.fetch_all_metadata()).brokers():
                    return
            assert time.monotonic() < deadline, f"no broker listed in Kafka's metadata after {timeout_s}s"
            await asyncio.sleep(0.5)
    finally:
        await client.close()


async def readiness(port: int) -> tuple[int | None, dict]:
    """A process's /readyz: its status and JSON body, or (None, {}) when nothing answers on `port` (the views
    before faust's web server is up)."""
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
            async with http.get(f"http://127.0.0.1:{port}/readyz") as response:
                return response.status, await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError):
        return None, {}
