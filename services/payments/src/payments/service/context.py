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
from ..formats import BankDirectory, Originator


class Refused(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code, self.detail = code, detail


@dataclass(frozen=True)
class BankSettings:
    """Where bank files go, who pays, and where the council's bank directory (account tokens to
    accounts, CSV) is. The directory is read when a file is written, so a changed CSV needs no restart;
    a missing or malformed one refuses the file (coded), it does not stop the worker."""

    out_dir: Path
    originator: Originator
    directory_path: Path | None

    def directory(self) -> BankDirectory:
        if self.directory_path is None:
            return BankDirectory({})
        return BankDirectory.from_csv_file(self.directory_path)


@dataclass
class Ctx:
    conn: asyncpg.Connection
    envelope: Envelope
    emit: Emitter
    policy: PaymentsPolicy
    bank: BankSettings

    @property
    def council(self) -> str:
        return self.envelope.councilid
