"""Contract placeholder: implementation in progress (brief P1)."""

from payments.formats.model import FileBatch, Statement


def parse_camt(data: bytes) -> Statement:
    raise NotImplementedError("parse_camt is being implemented")
