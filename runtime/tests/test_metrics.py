"""Metrics live in the registry they are given, and render as Prometheus text."""
from __future__ import annotations

from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry

from careruntime.metrics import RuntimeMetrics, committed_count, exposition


def test_metrics_render_with_expected_names():
    registry = CollectorRegistry()
    m = RuntimeMetrics(registry)
    m.consumed.labels("in").inc(3)
    m.committed.labels("in").inc(2)
    m.rejected.labels("MALFORMED_JSON").inc()
    m.dlq.labels("MALFORMED_JSON").inc()
    m.set_lag("in", 0, 7)
    m.batch_commit_seconds.observe(0.02)
    m.relay_published.labels("out").inc(5)
    m.outbox_oldest_age_seconds.set(1.5)
    body, content_type = exposition(registry)
    text = body.decode()
    assert content_type.startswith("text/plain")
    for line in [
        'consumed_total{topic="in"} 3.0',
        'committed_total{topic="in"} 2.0',
        'rejected_total{reason="MALFORMED_JSON"} 1.0',
        'dlq_total{reason="MALFORMED_JSON"} 1.0',
        'consumer_lag{partition="0",topic="in"} 7.0',
        "batch_commit_seconds_count 1.0",
        'relay_published_total{topic="out"} 5.0',
        "outbox_oldest_age_seconds 1.5",
    ]:
        assert line in text, line


def test_registries_are_independent_and_namespaced():
    a, b = CollectorRegistry(), CollectorRegistry()
    RuntimeMetrics(a).consumed.labels("x").inc()
    RuntimeMetrics(b, namespace="ledger")
    assert 'consumed_total{topic="x"} 1.0' in exposition(a)[0].decode()
    text_b = exposition(b)[0].decode()
    assert "ledger_consumed_total" in text_b and 'topic="x"' not in text_b


def test_forget_partition_drops_its_lag():
    registry = CollectorRegistry()
    m = RuntimeMetrics(registry)
    m.set_lag("in", 1, 4)
    m.forget_partition("in", 1)
    m.forget_partition("in", 1)  # twice is fine
    assert "consumer_lag{" not in exposition(registry)[0].decode()


@settings(max_examples=200, deadline=None)
@given(offsets=st.lists(st.integers(min_value=0, max_value=500), unique=True).map(sorted),
       next_offset=st.integers(min_value=-1, max_value=502))
def test_committed_count_is_the_number_of_records_below_the_next_offset(offsets, next_offset):
    records = [SimpleNamespace(offset=o) for o in offsets]  # in offset order, gaps allowed (compaction)
    assert committed_count(records, next_offset) == sum(1 for r in records if r.offset < next_offset)
