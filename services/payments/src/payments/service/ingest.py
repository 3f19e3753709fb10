"""The payments service's batch handler for careruntime's BatchConsumer: allocation events in (read
model), payments and invoice commands in (decisions), events and coded rejections out through the
outbox, all inside the consumer's one transaction with the stored offsets.

Per batch: allocation events first (a command in the same batch sees the budget agreed before it),
then commands, each in (partition, offset) order. Every consumed message is recorded in
processed_messages with its content hash: a resend with the same content does nothing again, the same
id with different content is refused DUPLICATE_CONFLICT (the first outcome stands). A command a
handler refuses (`Refused`) is rolled back to its savepoint and answered with CommandRejected, except
that a command naming a budget or provider the read model does not know yet waits (its partition
stops there and is re-read) while allocation.events.v1 has records this worker has not fetched, for
at most max_defer_s. Any other error rolls back the whole batch, which the consumer retries. A record on the commands topic
that is not a payments or invoices command goes to the DLQ (UNKNOWN_TYPE), like undecodable ones.
"""
from __future__ import annotations

import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import structlog
from aiokafka.structs import TopicPartition
from careruntime import outbox
from careruntime.codec import UNKNOWN_TYPE
from careruntime.dlq import dlq_row
from careruntime.logging import event_logging
from careschemas import invoice_commands as icmd
from careschemas import payments_commands as pcmd
from careschemas.envelope import Envelope
from prometheus_client import CollectorRegistry
from prometheus_client import Counter as PromCounter

from ..adapters import repository as repo
from ..adapters import wire
from ..domain import reasons
from ..domain.policy import PolicyError
from . import files, invoices, runs, schedules, settlements
from .context import BankSettings, Ctx, Refused
from .readmodel import apply_event

log = structlog.get_logger("payments.ingest")

# Refusals that may only mean the read model is behind: retried while allocation.events.v1 has records
# this worker has not fetched yet, for at most max_defer_s, then answered as refused.
DEFERRABLE = frozenset({reasons.UNKNOWN_BUDGET, reasons.UNKNOWN_PROVIDER})
_DEFER = object()


async def _policy(conn, council: str):
    """The council's policy; a stored row that is not valid (written by hand, not with `policy`) refuses
    the command POLICY_INVALID instead of failing the batch."""
    try:
        return await repo.policy(conn, council)
    except (PolicyError, TypeError, AttributeError) as exc:
        log.error("stored policy not valid: the council's commands are refused until it is fixed",
                  council_id=council, reason=str(exc))
        raise Refused(reasons.POLICY_INVALID, f"the council's stored policy is not valid "
                                              f"({exc or type(exc).__name__}); nothing was decided") from None

HANDLERS: dict[type, Any] = {
    pcmd.ScheduleDirectPayment: schedules.schedule_direct_payment,
    pcmd.SuspendDirectPayment: schedules.suspend_direct_payment,
    pcmd.ResumeDirectPayment: schedules.resume_direct_payment,
    pcmd.MakeOneOffPayment: schedules.make_one_off_payment,
    pcmd.RaiseSurplusRecovery: schedules.raise_surplus_recovery,
    pcmd.ReportDirectPaymentBalance: schedules.report_direct_payment_balance,
    pcmd.CreatePaymentRun: runs.create_payment_run,
    pcmd.ApprovePaymentRun: runs.approve_payment_run,
    pcmd.GeneratePaymentFile: files.generate_payment_file,
    pcmd.RecordSettlement: settlements.record_settlement,
    pcmd.RecordReturn: settlements.record_return,
    icmd.ReceiveInvoice: invoices.receive_invoice,
    icmd.ApproveInvoice: invoices.approve_invoice,
    icmd.RejectInvoice: invoices.reject_invoice,
    icmd.DisputeInvoice: invoices.dispute_invoice,
    icmd.ReceiveCreditNote: invoices.receive_credit_note,
    icmd.RecordOverpayment: invoices.record_overpayment,
}


@dataclass(frozen=True, slots=True)
class Item:
    topic: str
    partition: int
    offset: int
    envelope: Envelope
    payload: Any
    content_hash: str


class IngestMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.messages = PromCounter("payments_messages", "Consumed messages by kind and outcome.",
                                    ["kind", "outcome"], registry=registry)
        self.rejections = PromCounter("payments_rejections", "Refused commands by reason code.", ["reason"],
                                      registry=registry)


class PaymentsIngest:
    """One per worker process."""

    def __init__(self, *, allocation_topic: str, events_topic: str, bank: BankSettings, group_id: str | None = None,
                 metrics: IngestMetrics | None = None, max_defer_s: float = 30.0,
                 commands_topic: str = "payments.commands.v1", run_part_size: int = 10_000) -> None:
        self.allocation_topic, self.events_topic, self.bank = allocation_topic, events_topic, bank
        self.commands_topic, self.run_part_size = commands_topic, run_part_size
        self.group_id, self.metrics, self.max_defer_s = group_id, metrics, max_defer_s
        self.stats: Counter[str] = Counter()
        # Records of allocation.events.v1 not fetched yet by this worker (set by the composition root).
        self.allocation_lag: Callable[[], Awaitable[int]] | None = None
        self._deferred_since: dict[str, float] = {}

    async def handle(self, conn, decoded_by_tp: dict, rejects_by_tp: dict | None = None) -> None:
        events, commands, foreign = [], [], []
        for tp in sorted(decoded_by_tp, key=lambda t: (t.topic, t.partition)):
            for record, decoded in decoded_by_tp[tp]:
                item = Item(tp.topic, tp.partition, record.offset, decoded.envelope, decoded.payload,
                            wire.content_hash(decoded.envelope))
                if tp.topic == self.allocation_topic:
                    events.append(item)
                elif type(decoded.payload) in HANDLERS:
                    commands.append(item)
                else:
                    foreign.append(dlq_row(tp.topic, record, UNKNOWN_TYPE,
                                           f"{decoded.envelope.type} is not a payments or invoices command",
                                           group_id=self.group_id))
        seen = await self._seen(conn, [i.envelope.id for i in events + commands])
        rows = list(foreign)
        for item in events:
            await self._event(conn, item, seen)
        stops: dict[TopicPartition, int] = {}
        for item in commands:
            tp = TopicPartition(item.topic, item.partition)
            if tp in stops:
                continue  # a partition keeps its order: nothing after a deferred command goes first
            answer = await self._command(conn, item, seen)
            if answer is _DEFER:
                stops[tp] = item.offset
            else:
                rows += answer
        await outbox.append(conn, rows)
        return stops or None

    @staticmethod
    async def _seen(conn, ids: list[str]) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        for r in await conn.fetch("SELECT message_id, content_hash FROM processed_messages WHERE message_id = ANY($1)",
                                  ids):
            found.setdefault(r["message_id"], set()).add(r["content_hash"])
        return found

    async def _record(self, conn, item: Item, outcome: str, reason: str | None = None, conflict: bool = False) -> None:
        await conn.execute(
            """INSERT INTO processed_messages (message_id, content_hash, conflict, council_id, message_type, outcome,
               reason_code) VALUES ($1, $2, $3, $4, $5, $6, $7)""",
            item.envelope.id, item.content_hash, conflict, item.envelope.councilid, item.envelope.type, outcome, reason)

    async def _event(self, conn, item: Item, seen: dict[str, set[str]]) -> None:
        if item.envelope.id in seen:
            self._count("event", "duplicate")
            return
        applied = await apply_event(conn, item.envelope.councilid, item.payload, item.envelope.id)
        await self._record(conn, item, "applied" if applied else "ignored")
        seen[item.envelope.id] = {item.content_hash}
        self._count("event", "applied" if applied else "ignored")

    async def _command(self, conn, item: Item, seen: dict[str, set[str]]) -> list:
        env, cmd = item.envelope, item.payload
        if env.id in seen:
            if item.content_hash in seen[env.id]:
                self._count("command", "duplicate")
                return []
            seen[env.id].add(item.content_hash)
            await self._record(conn, item, "rejected", reasons.DUPLICATE_CONFLICT, conflict=True)
            self._count("command", "conflict", reasons.DUPLICATE_CONFLICT)
            return [wire.rejection(self.events_topic, env, cmd.effective_date, reasons.DUPLICATE_CONFLICT,
                                   f"command id {env.id} was already used with different content; its first "
                                   "outcome stands", wire.conflict_event_id(env.id, item.content_hash))]
        seen[env.id] = {item.content_hash}
        try:
            async with conn.transaction():  # a savepoint: a refusal undoes only this command's writes
                ctx = Ctx(conn, env, wire.Emitter(self.events_topic, env), await _policy(conn, env.councilid),
                          self.bank, self.commands_topic, self.run_part_size)
                await HANDLERS[type(cmd)](ctx, cmd)
        except Refused as refused:
            if refused.code in DEFERRABLE and await self._may_defer(env.id):
                del seen[env.id]
                self._count("command", "deferred")
                return _DEFER
            self._deferred_since.pop(env.id, None)
            await self._record(conn, item, "rejected", refused.code)
            self._count("command", "rejected", refused.code)
            with event_logging(env):
                log.info("command rejected", command_type=env.type, reason_code=refused.code, detail=refused.detail)
            return [wire.rejection(self.events_topic, env, cmd.effective_date, refused.code, refused.detail)]
        self._deferred_since.pop(env.id, None)
        await self._record(conn, item, "accepted")
        self._count("command", "accepted")
        return ctx.emit.rows

    async def _may_defer(self, command_id: str) -> bool:
        """True while the allocation topic has unfetched records and the command has not waited too long."""
        if self.allocation_lag is None or await self.allocation_lag() <= 0:
            return False
        first = self._deferred_since.setdefault(command_id, time.monotonic())
        return time.monotonic() - first < self.max_defer_s

    def _count(self, kind: str, outcome: str, reason: str | None = None) -> None:
        """Counters for operators; a rolled-back batch is counted again on retry (processed_messages is the record)."""
        self.stats[f"{kind}_{outcome}"] += 1
        if self.metrics:
            self.metrics.messages.labels(kind, outcome).inc()
            if reason:
                self.metrics.rejections.labels(reason).inc()
