"""What a command handler works with: the batch's connection, the command's council and envelope, the
emitter of its events, the council's policy and the bank-file settings. `Refused` is how a handler
says no: the ingest rolls back the handler's writes (a savepoint) and emits CommandRejected."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import asyncpg
from careschemas.envelope import Envelope

from ..adapters.wire import Emitter
from ..domain.policy import PaymentsPolicy
from ..formats import BankDirectory, Originator, PaymentFileError


class Refused(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code, self.detail = code, detail


class BankSettings:
    """Where bank files go, who pays, and the council's bank directory (account tokens to accounts, a
    CSV). The directory is parsed once and again only when the file changes (its mtime and size), so a
    changed CSV needs no restart; a missing or malformed one refuses the file (coded) when a file is
    written, it does not stop the worker."""

    def __init__(self, out_dir: Path, originator: Originator, directory_path: Path | None) -> None:
        self.out_dir, self.originator, self.directory_path = out_dir, originator, directory_path
        self._cached: tuple[tuple[int, int], BankDirectory] | None = None

    def directory(self) -> BankDirectory:
        if self.directory_path is None:
            return BankDirectory({})
        stat = self.directory_path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
        if self._cached is None or self._cached[0] != stamp:
            self._cached = (stamp, BankDirectory.from_csv_file(self.directory_path))
        return self._cached[1]

    def warm(self) -> None:
        """Parse the directory now (at start-up), if there is a readable one."""
        try:
            self.directory()
        except (OSError, PaymentFileError):
            pass  # refused, with its code, when a file is written


@dataclass
class Ctx:
    conn: asyncpg.Connection
    envelope: Envelope
    emit: Emitter
    policy: PaymentsPolicy
    bank: BankSettings
    commands_topic: str = "payments.commands.v1"  # where a run made in parts sends its next part
    run_part_size: int = 10_000

    @property
    def council(self) -> str:
        return self.envelope.councilid
