"""caretools.bench_hotpath: the in-process CPU benchmark runs the worker's real decision path."""
from caretools import bench_hotpath


def test_it_decides_the_stream_and_times_every_stage():
    result = bench_hotpath.measure(people=5, seed=3, repeat=1)
    assert result["events"] > 100 and 0 < result["entries"] < result["events"]
    stages = result["us_per_event"]
    assert set(stages) == {"decode", "content_hash", "decide_and_rows", "total"}
    assert all(us > 0 for us in stages.values())
    assert abs(stages["total"] - (stages["decode"] + stages["content_hash"] + stages["decide_and_rows"])) < 0.05
    # the chain heads are the ledger's own (every entry of a shard chained once): same input, same heads
    assert result["heads"] == bench_hotpath.measure(people=5, seed=3, repeat=1)["heads"]
    assert sum(seq for _, seq, _ in result["heads"]) == result["entries"]
