"""The council CLI: `python -m payments run create|approve|export` and `python -m payments statement
import FILE`. Each sends commands to the payments worker (through Kafka, like any portal), waits for
its decisions, prints them, and exits 0 (accepted), 1 (refused, with the reason code), 2 (bad input,
with a coded error; nothing sent) or 3 (Kafka or PostgreSQL unreachable, or no decision in time: JSON with
`UNREACHABLE` or `NOT_DECIDED`, the command ids and what was sent; sending again under the same ids is
safe). Long work shows a progress bar (tqdm, on stderr)."""
from __future__ import annotations

import asyncio
import sys
import time
import uuid
from datetime import date
from pathlib import Path

import asyncpg
import orjson
from aiokafka.errors import KafkaError
from careruntime.cli_args import DATABASE_UNREACHABLE, UNREACHABLE
from careschemas import payments_commands as cmd
from tqdm import tqdm

from ..adapters import commands_out
from ..config import Settings
from ..formats import StatementError, file_sha256, parse_camt
from ..service.statements import plan_statement

# What an unreachable, refusing or slow broker or database raises (no decision in time: commands_out.NotDecided).
_UNAVAILABLE = (*DATABASE_UNREACHABLE, KafkaError)


def _print(doc: dict) -> None:
    print(orjson.dumps(doc, option=orjson.OPT_INDENT_2, default=str).decode())


def _unavailable(exc: BaseException, **context) -> int:
    if isinstance(exc, commands_out.NotDecided):
        code, detail = "NOT_DECIDED", str(exc)
    else:
        code, detail = "UNREACHABLE", f"Kafka or PostgreSQL unreachable: {type(exc).__name__}: {exc}"
    _print({"error": code, "detail": detail, **context})
    return UNREACHABLE


async def _one(settings: Settings, council: str, command, command_id: str, timeout_s: float) -> tuple[str, str | None]:
    await commands_out.send(settings.kafka_bootstrap, settings.commands_topic,
                            [commands_out.envelope_bytes(command, command_id, council)])
    with tqdm(total=1, desc=type(command).__name__, unit="cmd", file=sys.stderr, leave=False) as bar:
        return (await commands_out.outcomes(settings.database_url, [command_id], timeout_s, bar))[command_id]


async def _run_created(settings: Settings, council: str, run_id: str, timeout_s: float) -> None:
    """Wait until a run made in parts is complete (a progress bar over its parts)."""
    conn = await asyncpg.connect(settings.database_url)
    deadline = time.monotonic() + timeout_s
    try:
        with tqdm(desc="run parts", unit="part", file=sys.stderr, leave=False) as bar:
            while True:
                run = await conn.fetchrow("SELECT status, parts, next_part FROM runs WHERE council_id = $1 "
                                          "AND run_id = $2", council, run_id)
                bar.total = run["parts"]
                bar.n = run["next_part"]
                bar.refresh()
                if run["status"] == "created":
                    return
                if time.monotonic() > deadline:
                    raise commands_out.NotDecided(f"run {run_id} not complete after {timeout_s}s")
                await asyncio.sleep(0.2)
    finally:
        await conn.close()


async def run_command(settings: Settings, args) -> int:
    today = args.effective_date or date.today()
    cid = args.command_id or f"cli-{uuid.uuid4().hex}"
    if args.action == "create":
        command = cmd.CreatePaymentRun(run_id=args.run_id, created_by=args.by, due_on=args.due_on or today,
                                       effective_date=today)
    elif args.action == "approve":
        command = cmd.ApprovePaymentRun(run_id=args.run_id, approved_by=args.by, effective_date=today)
    else:
        command = cmd.GeneratePaymentFile(run_id=args.run_id, file_format=args.format, effective_date=today)
    try:
        outcome, reason = await _one(settings, args.council, command, cid, args.timeout)
        if args.action == "create" and outcome == "accepted":
            await _run_created(settings, args.council, args.run_id, args.timeout)
        conn = await asyncpg.connect(settings.database_url)
        try:
            run = await conn.fetchrow("SELECT created_by, approved_by, status, parts, payment_count, total_pence "
                                      "FROM runs WHERE council_id = $1 AND run_id = $2", args.council, args.run_id)
            files = await conn.fetch("SELECT file_format, file_name, sha256 FROM run_files WHERE council_id = $1 "
                                     "AND run_id = $2 ORDER BY file_format", args.council, args.run_id)
        finally:
            await conn.close()
    except _UNAVAILABLE as exc:
        return _unavailable(exc, command=type(command).__name__, command_id=cid, run_id=args.run_id,
                            resend=f"--command-id {cid}")
    doc = {"command": type(command).__name__, "command_id": cid, "run_id": args.run_id, "outcome": outcome,
           "reason_code": reason}
    if run:
        doc["run"] = dict(run)
    if files:
        doc["files"] = [{**dict(f), "path": str(settings.out_dir / f["file_name"])} for f in files]
    _print(doc)
    return 0 if outcome == "accepted" else 1


async def statement_import(settings: Settings, args) -> int:
    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        _print({"error": "STATEMENT_UNREADABLE", "detail": str(exc)})
        return 2
    try:  # the whole file is read and checked before the database is asked or anything is sent
        statement = parse_camt(data)
    except StatementError as exc:
        _print({"error": exc.code, "detail": exc.detail, "file": str(path), "sent": 0})
        return 2
    sent: int | str = 0
    try:
        conn = await asyncpg.connect(settings.database_url)
        try:
            plan = await plan_statement(conn, args.council, statement, file_sha256(data))
        finally:
            await conn.close()
        messages = [commands_out.envelope_bytes(c, cid, args.council, correlation_id=f"stmt-{plan.digest[:16]}")
                    for cid, c in plan.commands]
        sent = "unknown"  # some may have gone; their ids derive from the file, so importing it again is safe
        with tqdm(total=len(messages), desc="send", unit="cmd", file=sys.stderr) as bar:
            sent = await commands_out.send(settings.kafka_bootstrap, settings.commands_topic, messages, bar)
        with tqdm(total=len(messages), desc="decided", unit="cmd", file=sys.stderr) as bar:
            decided = await commands_out.outcomes(settings.database_url, [cid for cid, _ in plan.commands],
                                                  args.timeout, bar)
    except _UNAVAILABLE as exc:
        return _unavailable(exc, file=str(path), sent=sent)
    refused = {cid: reason for cid, (outcome, reason) in decided.items() if outcome != "accepted"}
    _print({
        "statement_id": plan.statement_id, "sha256": plan.digest,
        "settled": len(plan.reconciliation.settled), "returned": len(plan.reconciliation.returned),
        "refused": refused,
        "unmatched": [{"entry_ref": e.entry_ref, "end_to_end_id": e.end_to_end_id, "amount_pence": e.amount_pence,
                       "reason": reason} for e, reason in plan.unmatched],
    })
    return 0 if not refused else 1
