"""Coded errors raised by the bank-file renderers, the statement parser and the bank directory.

Every error carries a stable machine-readable `code` (what the caller branches on or records as a
rejection reason) and a human `detail`. Nothing here ever escapes as a bare lxml/ValueError.
"""

from __future__ import annotations


class PaymentFileError(Exception):
    """Base class: a coded problem with a payment file or its inputs."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


class PaymentFileInvalid(PaymentFileError):
    """A batch cannot be rendered: an instruction or the originator breaks a format rule."""


class StatementError(PaymentFileError):
    """A statement file is malformed, of an unknown type, or breaks a rule we rely on."""


class UnknownAccountRef(PaymentFileError):
    """The bank directory holds no account for an account_ref."""


class BankDirectoryInvalid(PaymentFileError):
    """The council-supplied bank directory CSV is malformed."""
