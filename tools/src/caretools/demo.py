"""`make demo`: a synthetic year for one council through the real Kafka and PostgreSQL, end to end.

Starts the local stack if needed, makes fresh databases (allocation, ledger) and a fresh set of topics
for this run, starts the allocation worker + relay and the ledger worker + relay as real processes,
then runs the year in stages, waits until everything is consumed and relayed, prints the summary, and
stops what it started.

Stages (each a function of the run, so another service can plug in as a stage of its own):
1. allocation: the case system's commands on allocation.commands.v1 (providers first, then every
   budget's decisions, then bad commands); the allocation service decides them and its relay publishes
   the events the ledger consumes. Waits until the allocation service has decided and published all.
2. payments: payment and invoice events published directly on payments.events.v1 (with bad ones),
   until the payments service drives them from its own commands.
Then the ledger is waited for, and everything is read back from PostgreSQL and Kafka.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from careruntime.stackinfo import StackInfo

from . import localstack
from .badinput import bad_commands
from .generator import generate
from .messages import Message
from .summary import collect, collect_allocation, render

COUNCIL = "E10000099"
PROVIDER_COMMANDS = (b'"allocation.RegisterProvider.v1"', b'"allocation.ChangeProviderBankDetails.v1"')


@dataclass
class DemoRun:
    """One demo run: where things are, what runs, and what was sent to which topic."""

    info: StackInfo
    topics: dict[str, str]
    out: Path
    run_id: str
    timeout_s: float
    allocation_dsn: str = ""
    ledger_dsn: str = ""
    processes: list[localstack.ServiceProcess] = field(default_factory=list)
    sent: dict[str, int] = field(default_factory=dict)  # logical topic -> messages sent

    @property
    def allocation_group(self) -> str:
        return f"allocation-demo-{self.run_id}"

    @property
    def ledger_group(self) -> str:
        return f"ledger-demo-{self.run_id}"

    async def publish(self, messages: list[Message]) -> float:
        for m in messages:
            self.sent[m.topic] = self.sent.get(m.topic, 0) + 1
        return await localstack.produce(self.info.bootstrap, messages, self.topics)

    async def settled(self, dsn: str, group: str, topic: str) -> float:
        """Wait until a service's worker (`group`, database `dsn`) has consumed everything sent to `topic`
        (a logical name) and its relay has published everything it wrote; the seconds it took."""
        self.assert_alive()
        targets = await localstack.end_offsets(self.info.bootstrap, [self.topics[topic]])
        return await localstack.wait_consumed(dsn, group, targets, self.timeout_s)

    async def allocation_settled(self) -> float:
        return await self.settled(self.allocation_dsn, self.allocation_group, "allocation.commands.v1")

    def assert_alive(self) -> None:
        dead = [f"{p.service} {p.command} (see {p.log_path})" for p in self.processes if not p.alive()]
        if dead:
            raise RuntimeError(f"stopped unexpectedly: {', '.join(dead)}")


# A stage gets the run, the valid year and the bad input, publishes its part (run.publish) and waits
# for the services it drives (run.settled). A service joins the demo by starting its processes in
# start_services and replacing or adding a stage here.
Stage = Callable[[DemoRun, list[Message], list[Message]], Awaitable[None]]


async def allocation_stage(run: DemoRun, valid: list[Message], bad: list[Message]) -> None:
    commands = [m for m in valid if m.topic == "allocation.commands.v1"]
    providers = [m for m in commands if any(t in m.value for t in PROVIDER_COMMANDS)]
    budgets = [m for m in commands if not any(t in m.value for t in PROVIDER_COMMANDS)]
    bad_cmds = [m for m in bad if m.topic == "allocation.commands.v1"]
    # A case system waits for ProviderRegistered before commissioning from a new provider: provider
    # and budget commands are keyed differently, so they may be read in any order across partitions.
    for label, batch in (("provider", providers), ("budget", budgets), ("bad", bad_cmds)):
        sent_s = await run.publish(batch)
        waited = await run.allocation_settled()
        print(f"  allocation: {len(batch):,} {label} commands sent in {sent_s:.1f} s, decided and published "
              f"{waited:.1f} s later", flush=True)


async def payments_stage(run: DemoRun, valid: list[Message], bad: list[Message]) -> None:
    """Until the payments service exists, its events are published as it would publish them."""
    events = [m for m in valid + bad if m.topic == "payments.events.v1"]
    sent_s = await run.publish(events)
    print(f"  payments: {len(events):,} payment and invoice events published in {sent_s:.1f} s", flush=True)


STAGES: tuple[Stage, ...] = (allocation_stage, payments_stage)


def start_services(run: DemoRun) -> None:
    logs = run.out / "logs"
    alloc_env = localstack.allocation_env(run.info, run.allocation_dsn, run.topics, run.allocation_group,
                                          health_port=localstack.free_port_pair())
    ledger_env = localstack.ledger_env(run.info, run.ledger_dsn, run.topics, run.ledger_group,
                                       health_port=localstack.free_port_pair())
    for service, env in (("allocation", alloc_env), ("ledger", ledger_env)):
        for command in ("worker", "relay"):
            proc = localstack.ServiceProcess(command, env, logs / f"{service}-{command}.log", service=service)
            proc.start()
            run.processes.append(proc)


async def run_demo(people: int, seed: int, timeout_s: float) -> int:
    started_stack = localstack.ensure_stack()
    info = StackInfo.from_env(localstack.REPO)
    run_id = time.strftime("%Y%m%d%H%M%S")
    out = localstack.REPO / "out"
    run = DemoRun(info, {}, out, run_id, timeout_s)
    try:
        run.allocation_dsn = await localstack.fresh_database(info, "allocation_demo", service="allocation")
        run.ledger_dsn = await localstack.fresh_database(info, "ledger_demo")
        run.topics = await localstack.fresh_topics(info, f"demo{run_id}.")
        print(f"generating a synthetic year: {people} people, seed {seed} ...", flush=True)
        valid = generate(people=people, seed=seed, council_id=COUNCIL, allocation="commands")
        bad = bad_commands(valid, COUNCIL)
        start_services(run)
        t0 = time.perf_counter()
        for stage in STAGES:
            await stage(run, valid, bad)
        run.assert_alive()
        print("waiting for the ledger ...", flush=True)
        targets = await localstack.record_ends(
            info.bootstrap, [run.topics["allocation.events.v1"], run.topics["payments.events.v1"]])
        await localstack.wait_consumed(run.ledger_dsn, run.ledger_group, targets, timeout_s)
        elapsed = time.perf_counter() - t0
        summary = await collect(run.ledger_dsn, info.bootstrap, run.topics)
        summary["allocation"] = await collect_allocation(run.allocation_dsn, info.bootstrap, run.topics)
        summary["sent"] = dict(run.sent)
        print(render(summary, sum(run.sent.values()), elapsed))
        out.mkdir(exist_ok=True)
        (out / "demo-summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
        print(f"\nsummary written to {out / 'demo-summary.json'}; logs in {out / 'logs'}")
        return 0 if summary["verify"]["ok"] else 1
    finally:
        for proc in reversed(run.processes):
            proc.stop()
        localstack.release_stack(started_stack)


def main() -> int:
    localstack.quiet_logging()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--timeout", type=float, default=240)
    args = parser.parse_args()
    return asyncio.run(run_demo(args.people, args.seed, args.timeout))


if __name__ == "__main__":
    sys.exit(main())
