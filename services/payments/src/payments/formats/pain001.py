"""Contract placeholder: implementation in progress (brief P1)."""

from payments.formats.model import FileBatch, Statement


def render_pain001(batch: FileBatch) -> bytes:
    raise NotImplementedError("render_pain001 is being implemented")
