"""The scale-out experiment's report (caretools.bench_replicas.render), without I/O: it prints both paths and
the ratio, and says plainly when the two decided differently."""
from __future__ import annotations

from caretools.bench_replicas import render


def path(replicas: int, rate: float, outcomes: dict) -> dict:
    return {"replicas": replicas, "events": 1000, "entries": sum(outcomes.values()), "busy_s": 1.0,
            "entries_per_s": rate, "events_per_s": rate * 1.2,
            "cpu_us_per_event": {"workers": 80.0, "postgres": 40.0, "kafka": 3.0}, "machine_cpu_busy": 0.5,
            "verify_ok": True, "fingerprint": {"outcomes": outcomes}}


def test_the_report_shows_both_paths_the_ratio_and_whether_they_decided_alike():
    one = path(1, 8000.0, {"posted": 900})
    text = render([one, path(2, 12000.0, {"posted": 900})])
    assert "2 workers / 1 worker, postings/s: 1.50x" in text and "same decisions" in text and text.endswith("yes")
    assert "8,000" in text and "12,000" in text
    differing = render([one, path(2, 800.0, {"posted": 850, "rejected/INSUFFICIENT_BUDGET": 50})])
    assert "0.10x" in differing and differing.endswith("NO")
