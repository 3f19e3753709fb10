"""Contract placeholder: implementation in progress (brief P1)."""

from collections.abc import Mapping

from payments.formats.model import Reconciliation, Statement


def reconcile(statement: Statement, instructed: Mapping[str, tuple[str, int]]) -> Reconciliation:
    raise NotImplementedError("reconcile is being implemented")
