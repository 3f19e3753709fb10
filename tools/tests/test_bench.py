"""The benchmark's own arithmetic (no stack, no timing): event count, quantiles, profile summary, /proc CPU."""
import os

from caretools import bench, bench_cpu, bench_profile


def test_generator_is_scaled_to_about_the_requested_number_of_events():
    people, messages = bench.make_events(20_000, seed=2026)
    assert people == bench.people_for(20_000)
    assert 0.995 * 20_000 <= len(messages) <= 1.03 * 20_000


def test_quantile_is_nearest_rank():
    values = list(range(1, 101))
    assert bench._quantile(values, 0.5) == 50
    assert bench._quantile(values, 0.99) == 99
    assert bench._quantile(values, 1.0) == 100
    assert bench._quantile([7], 0.99) == 7
    assert bench._quantile([], 0.5) == 0.0


def test_rates_run_from_the_first_batch_to_the_last_commit():
    result = bench.PathResult("batched", 5000, events=1000, entries=800, busy_s=2.0, wall_s=2.5,
                              batches=[(1.0, 600, 0.2), (2.0, 400, 0.1)])
    figures = result.figures()
    assert figures["events_per_s"] == 500.0 and figures["entries_per_s"] == 400.0
    assert figures["events_per_s_from_start"] == 400.0
    assert figures["batch_commit_ms"] == {"p50": 100.0, "p99": 200.0, "max": 200.0}
    assert figures["batch_records"]["max"] == 600


def test_profile_summary_counts_self_and_inclusive_samples(tmp_path):
    raw = tmp_path / "profile.txt"
    raw.write_text(
        "MainThread (1);run (/x/site-packages/pkg/loop.py:1);decode (/x/src/careruntime/codec.py:9) 3\n"
        "MainThread (1);run (/x/site-packages/pkg/loop.py:1);apply (/x/src/ledger/domain/ledger.py:5) 1\n")
    summary = bench_profile.summarise(raw)
    assert summary["samples"] == 4
    assert dict(summary["self"]) == {"careruntime/codec.py:decode": 75.0, "domain/ledger.py:apply": 25.0}
    assert dict(summary["inclusive"])["pkg/loop.py:run"] == 100.0


def test_cpu_of_a_process_tree_is_read_from_proc():
    seconds = bench_cpu.tree_cpu(os.getpid())
    assert seconds is not None and seconds >= 0
    assert bench_cpu.tree_cpu(None) is None


def test_cpu_ceilings_are_the_rates_the_measured_cpu_per_event_allows():
    # 10,000 events, 8,000 entries; worker 0.5 s, PostgreSQL 0.3 s, broker 0.1 s: 50 + 30 + 10 µs per event
    result = bench.PathResult("batched", 5000, events=10_000, entries=8_000, worker_cpu_s=0.5,
                              postgres_cpu_s=0.3, kafka_cpu_s=0.1)
    ceilings = result.cpu_ceilings(cores=2)
    assert ceilings == {"cores": 2, "us_per_event": 90.0, "one_worker": 16_000, "all_cores": 17_778}
    assert bench.PathResult("naive", 1, events=10, entries=8, worker_cpu_s=0.1, postgres_cpu_s=None,
                            kafka_cpu_s=0.1).cpu_ceilings(cores=2) is None


def test_statement_labels_name_the_verb_and_the_table():
    from caretools.bench_pgstat import label

    assert label('COPY "journal_entries"("entry_id", "shard") FROM STDIN (FORMAT text)') == "COPY journal_entries"
    assert label("INSERT INTO accounts (account) SELECT u.account FROM unnest($1::text[]) AS u(account) "
                 "ON CONFLICT (account) DO UPDATE SET balance_pence = 1") == "upsert accounts"
    assert label("INSERT INTO outbox (topic) VALUES ($1)") == "INSERT outbox"
    assert label("SELECT p.event_id FROM unnest($1::text::text[]) AS u(event_id), LATERAL (SELECT event_id "
                 "FROM processed_events p WHERE p.event_id = u.event_id OFFSET $2) AS p") == "SELECT processed_events"
    assert label("UPDATE consumer_offsets SET next_offset = $1") == "UPDATE consumer_offsets"
    assert label("COMMIT") == "COMMIT"


def test_the_report_shows_statements_only_when_tracked():
    assert bench._statement_rows([]) == []
    rows = bench._statement_rows([{"statement": "COPY journal_entries", "calls": 181, "rows": 84978,
                                   "exec_us_per_event": 10.4, "wal_bytes_per_event": 1000}])
    assert rows[1] == "     10.40 us/event     181 calls  COPY journal_entries"


def test_back_to_back_is_the_rate_if_transactions_never_waited_for_each_other():
    # 800 entries; two transactions of 0.2 and 0.1 s in a 2 s window: 800 / 0.3 s
    result = bench.PathResult("batched", 5000, events=1000, entries=800, busy_s=2.0,
                              batches=[(1.0, 600, 0.2), (2.0, 400, 0.1)])
    assert result.back_to_back() == 2667
    assert result.figures()["transactions_back_to_back_postings_per_s"] == 2667
    assert bench.PathResult("naive", 1, events=0, entries=0).back_to_back() is None


def test_the_in_process_reference_is_the_hotpath_total_of_a_child_process():
    us = bench.in_process_reference(people=5, seed=3)
    assert us is not None and us > 0
    rows = bench._reference_rows((20.0, 30.0), worker_us=50.0)
    assert rows[0].startswith("  in-process reference, us/event") and "20.0 before / 30.0 after" in rows[0]
    assert rows[1].split()[-2] == "2.00"  # 50 us end to end against 25 in process
    assert bench._reference_rows((None, 30.0), worker_us=50.0) == [
        bench._row("in-process reference, us/event", "not measured", "-")]


def test_a_reference_that_cannot_run_is_reported_not_raised(monkeypatch, capsys):
    monkeypatch.setattr(bench.sys, "executable", "/nonexistent/python")
    assert bench.in_process_reference(people=5, seed=3) is None
    assert "did not run" in capsys.readouterr().err
