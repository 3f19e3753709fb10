"""Contract placeholder: implementation in progress (brief P1)."""

from payments.formats.model import FileBatch, Statement


def render_bacs18(batch: FileBatch) -> bytes:
    raise NotImplementedError("render_bacs18 is being implemented")
