"""A text progress bar for rebuilds: pure formatting (the caller decides where to print it)."""
from __future__ import annotations


def progress_line(label: str, done: int, total: int, elapsed_s: float, width: int = 30) -> str:
    """e.g. `journal [##########----------]  50.0%  2,500,000/5,000,000  312,000/s  eta 8s`."""
    total = max(total, 0)
    fraction = 1.0 if total == 0 else min(max(done / total, 0.0), 1.0)
    filled = int(round(fraction * width))
    rate = done / elapsed_s if elapsed_s > 0 else 0.0
    remaining = max(total - done, 0)
    eta = f"eta {remaining / rate:,.0f}s" if rate > 0 and remaining else "done" if not remaining else "eta ?"
    return (f"{label} [{'#' * filled}{'-' * (width - filled)}] {fraction * 100:5.1f}%  "
            f"{done:,}/{total:,}  {rate:,.0f}/s  {eta}")
