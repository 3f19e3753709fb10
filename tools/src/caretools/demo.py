"""`make demo`: a synthetic year for one council through the real Kafka and PostgreSQL, end to end.

Starts the local stack if needed, makes fresh databases (allocation, ledger, payments) and a fresh set
of topics for this run, starts the allocation, ledger and payments workers + relays as real processes,
then runs the year in stages, prints the summary (one block per service, then the ledger and the audit
pack), and stops what it started.

Stages (each a function of the run, so another service can plug in as a stage of its own):
1. allocation: the case system's commands on allocation.commands.v1 (providers first, then every
   budget's set-up decisions); the allocation service decides them and its relay publishes the events
   the ledger and the payments service consume. Waits until the allocation service has decided all.
2. payments: the year's DP schedules and provider invoices as commands to the payments service, and
   fifteen four-weekly cycles of a DP run (Bacs18) and an invoice run (pain.001) through the payments
   CLI, each followed by the bank's camt.053 statement (demo_payments_year); the case system's
   mid-year decisions (revisions, variations, ends, deaths) reach the allocation service cycle by cycle.
3. bad input: bad commands for allocation and payments, bad and resent payment events for the ledger.
4. ledger: waits until the ledger has consumed everything the two services published.
5. reporting: projections rebuilt from the journal and from the topics (checked equal), ledger verify,
   and the audit pack in out/ (demo_reporting, owned by the reporting service).
Then everything is read back from PostgreSQL and Kafka for the summary.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from careruntime.stackinfo import StackInfo

from . import localstack
from .badinput import bad_commands, resent_payment_events
from .demo_payments import PaymentsDemo
from .demo_payments_year import cycle_totals, payments_year
from .demo_reporting import render as render_reporting
from .demo_reporting import run_reporting_stage
from .generator import generate
from .messages import Message
from .summary import collect, collect_allocation, collect_payments, render

COUNCIL = "E10000099"
PROVIDER_COMMANDS = (b'"allocation.RegisterProvider.v1"', b'"allocation.ChangeProviderBankDetails.v1"')
# Decisions a case system makes during the year: sent four weeks at a time beside the payment cycles.
MID_YEAR_DECISIONS = tuple(f'"allocation.{c}.v1"'.encode() for c in (
    "RevisePersonalBudget", "AuthoriseOverspend", "VaryServiceOrder", "EndServiceOrder", "EndPersonalBudget",
    "RecordDeath"))
CLOSURES = tuple(f'"allocation.{c}.v1"'.encode() for c in ("RecordDeath", "EndPersonalBudget", "EndServiceOrder"))


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
    payments_dsn: str = ""
    reporting_db: str = "reporting_demo"  # and <name>_topics: the two projection databases
    return_every: int = 97  # the bank returns every n-th payment of a statement (AC04)
    processes: list[localstack.ServiceProcess] = field(default_factory=list)
    sent: dict[str, int] = field(default_factory=dict)  # logical topic -> messages sent
    payments: PaymentsDemo | None = None
    results: dict = field(default_factory=dict)  # what stages found (payments cycles, reporting figures)

    @property
    def allocation_group(self) -> str:
        return f"allocation-demo-{self.run_id}"

    @property
    def ledger_group(self) -> str:
        return f"ledger-demo-{self.run_id}"

    @property
    def payments_group(self) -> str:
        return f"payments-demo-{self.run_id}"

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


def _is_mid_year(m: Message) -> bool:
    return any(t in m.value for t in MID_YEAR_DECISIONS)


def decisions_known_by(pending: list[Message], day: date) -> list[Message]:
    """The mid-year decisions a cycle on `day` sends: those dated by then, and closures (a death, an end)
    of the coming four weeks with the earlier decisions of their budget, so the DP run paying those
    weeks in advance knows of them. Variations of the coming weeks wait for their date, so invoices for
    the weeks before them are matched against the order as it stood."""
    ahead = day + timedelta(days=28)
    closing = {m.key for m in pending if any(t in m.value for t in CLOSURES) and m.at.date() <= ahead}
    return [m for m in pending if m.at.date() <= day or (m.key in closing and m.at.date() <= ahead)]


async def allocation_stage(run: DemoRun, valid: list[Message], bad: list[Message]) -> None:
    """Providers, then the year's set-up decisions (budgets, splits, contributions, routes, orders); the
    mid-year decisions go in the payments stage, four weeks at a time."""
    commands = [m for m in valid if m.topic == "allocation.commands.v1" and not _is_mid_year(m)]
    providers = [m for m in commands if any(t in m.value for t in PROVIDER_COMMANDS)]
    budgets = [m for m in commands if not any(t in m.value for t in PROVIDER_COMMANDS)]
    # A case system waits for ProviderRegistered before commissioning from a new provider: provider
    # and budget commands are keyed differently, so they may be read in any order across partitions.
    for label, batch in (("provider", providers), ("budget set-up", budgets)):
        sent_s = await run.publish(batch)
        waited = await run.allocation_settled()
        print(f"  allocation: {len(batch):,} {label} commands sent in {sent_s:.1f} s, decided and published "
              f"{waited:.1f} s later", flush=True)


async def payments_stage(run: DemoRun, valid: list[Message], bad: list[Message]) -> None:
    """The year's payments through the payments service (demo_payments_year), with the case system's
    mid-year decisions sent to the allocation service as the year goes."""
    later = sorted((m for m in valid if m.topic == "allocation.commands.v1" and _is_mid_year(m)), key=lambda m: m.at)

    async def decisions(day: date) -> None:
        due = decisions_known_by(later, day)
        later[:] = [m for m in later if m not in set(due)]
        if due:
            await run.publish(due)
            await run.allocation_settled()
            await run.payments.settled()
            run.results["mid_year_decisions"] = run.results.get("mid_year_decisions", 0) + len(due)

    logs = await payments_year(run.payments, valid, return_every=run.return_every, decisions=decisions)
    await decisions(date.max - timedelta(days=28))
    run.results["payments_cycles"] = cycle_totals(logs)
    print(f"  allocation: {run.results.get('mid_year_decisions', 0):,} mid-year decisions sent cycle by cycle",
          flush=True)


async def bad_input_stage(run: DemoRun, valid: list[Message], bad: list[Message]) -> None:
    """Bad commands for the allocation and payments services, then bad payment events for the ledger:
    undecodable ones, ones it must refuse, and resends (exact, and with a penny more) of what the
    payments service published."""
    for topic, settled in (("allocation.commands.v1", run.allocation_settled),
                           ("payments.commands.v1", run.payments.settled)):
        batch = [m for m in bad if m.topic == topic]
        await run.publish(batch)
        await settled()
        print(f"  bad input: {len(batch)} bad messages on {topic}", flush=True)
    service_events = await localstack.read_records(run.info.bootstrap, run.topics["payments.events.v1"])
    resent = [Message("payments.events.v1", k, v, valid[-1].at) for k, v in resent_payment_events(service_events)]
    bad_events = [m for m in bad if m.topic == "payments.events.v1"] + resent
    await run.publish(bad_events)
    print(f"  bad input: {len(bad_events)} bad or resent events on payments.events.v1 for the ledger", flush=True)


async def ledger_stage(run: DemoRun, valid: list[Message], bad: list[Message]) -> None:
    """Wait until the ledger has consumed everything the allocation and payments services published."""
    run.assert_alive()
    targets = await localstack.record_ends(
        run.info.bootstrap, [run.topics["allocation.events.v1"], run.topics["payments.events.v1"]])
    waited = await localstack.wait_consumed(run.ledger_dsn, run.ledger_group, targets, run.timeout_s)
    print(f"  ledger: caught up {waited:.1f} s after the last event", flush=True)


async def reporting_stage(run: DemoRun, valid: list[Message], bad: list[Message]) -> None:
    """Projections from the ledger (journal and topic rebuilds, checked equal) and the audit pack."""
    run.results["reporting"] = await run_reporting_stage(
        run.info, run.ledger_dsn, run.topics, COUNCIL, out=run.out, progress=False,
        database=run.reporting_db)
    print(f"  reporting: audit pack written in {run.results['reporting']['seconds']:.1f} s", flush=True)


STAGES: tuple[Stage, ...] = (allocation_stage, payments_stage, bad_input_stage, ledger_stage, reporting_stage)


def start_services(run: DemoRun) -> None:
    """The allocation, ledger and payments workers and relays as child processes (reporting runs in
    this process, in its stage)."""
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
    run.payments = PaymentsDemo(run.info, run.topics, run.payments_dsn, COUNCIL, run.out, logs,
                                run.payments_group, run.timeout_s)
    run.payments.start()
    run.processes += run.payments.procs


async def run_demo(people: int, seed: int, timeout_s: float) -> int:
    started_stack = localstack.ensure_stack()
    info = StackInfo.from_env(localstack.REPO)
    run_id = time.strftime("%Y%m%d%H%M%S")
    out = localstack.REPO / "out"
    run = DemoRun(info, {}, out, run_id, timeout_s)
    wall = time.perf_counter()
    try:
        run.allocation_dsn = await localstack.fresh_database(info, "allocation_demo", service="allocation")
        run.ledger_dsn = await localstack.fresh_database(info, "ledger_demo")
        run.payments_dsn = await localstack.fresh_database(info, "payments_demo", service="payments")
        run.topics = await localstack.fresh_topics(info, f"demo{run_id}.")
        print(f"generating a synthetic year: {people} people, seed {seed} ...", flush=True)
        valid = generate(people=people, seed=seed, council_id=COUNCIL, allocation="commands")
        bad = bad_commands(valid, COUNCIL)
        start_services(run)
        t0 = time.perf_counter()
        for stage in STAGES:
            await stage(run, valid, bad)
        elapsed = time.perf_counter() - t0
        summary = await collect_all(run)
        print(render(summary, sum(run.sent.values()), elapsed))
        print(render_reporting(run.results["reporting"]))
        out.mkdir(exist_ok=True)
        (out / "demo-summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
        print(f"\naudit pack: {run.results['reporting']['audit_pack']} (zip: {run.results['reporting']['zip']})")
        print(f"summary written to {out / 'demo-summary.json'}; bank files and statements in {out}; logs in {out / 'logs'}")
        ok = summary["verify"]["ok"] and summary["payments"]["left_reserved"] == 0
        return 0 if ok else 1
    finally:
        for proc in reversed(run.processes):
            proc.stop()
        localstack.release_stack(started_stack)
        print(f"demo finished in {time.perf_counter() - wall:.0f} s (wall time, stack start and stop included)")


async def collect_all(run: DemoRun) -> dict:
    """Everything the closing summary shows, read back from PostgreSQL and Kafka."""
    summary = await collect(run.ledger_dsn, run.info.bootstrap, run.topics)
    summary["allocation"] = await collect_allocation(run.allocation_dsn, run.info.bootstrap, run.topics)
    summary["payments"] = await collect_payments(run.payments_dsn, run.ledger_dsn, run.info.bootstrap, run.topics,
                                                 COUNCIL)
    summary["payments"]["cycles"] = run.results.get("payments_cycles", {})
    summary["reporting"] = run.results.get("reporting", {})
    summary["sent"] = dict(run.sent)
    return summary


def main() -> int:
    localstack.quiet_logging()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--timeout", type=float, default=240, help="seconds any one wait may take")
    args = parser.parse_args()
    return asyncio.run(run_demo(args.people, args.seed, args.timeout))


if __name__ == "__main__":
    sys.exit(main())
