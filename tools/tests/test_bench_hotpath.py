"""caretools.bench_hotpath: the in-process CPU benchmark runs the worker's real decision path."""
from caretools import bench_hotpath


def test_it_decides_the_stream_and_times_every_stage():
    result = bench_hotpath.measure(people=5, seed=3, repeat=1)
    assert result["events"] > 100 and 0 < result["entries"] < result["events"]
    stages = result["us_per_event"]
    assert set(stages) == {*bench_hotpath.STAGES, "total"}
    assert all(us > 0 for us in stages.values())
    assert abs(stages["total"] - sum(stages[name] for name in bench_hotpath.STAGES)) < 0.05
    # the chain heads are the ledger's own (every entry of a shard chained once): same input, same heads
    assert result["heads"] == bench_hotpath.measure(people=5, seed=3, repeat=1)["heads"]
    assert sum(seq for _, seq, _ in result["heads"]) == result["entries"]


def test_the_compiled_and_the_python_decision_code_decide_the_same():
    """ledger.native: the same stream through the compiled modules and through their Python source gives
    the same entries and the same chain heads (every entry's accounts, amounts and causes are in them)."""
    import json
    import os
    import subprocess
    import sys

    def run(**env: str) -> dict:
        out = subprocess.run([sys.executable, "-m", "caretools.bench_hotpath", "--people", "40", "--repeat", "1",
                              "--json"], env={**os.environ, **env}, check=True, capture_output=True, text=True)
        return json.loads(out.stdout)

    compiled, source = run(), run(LEDGER_PURE_PYTHON="1")
    assert compiled["entries"] == source["entries"] > 0
    assert compiled["heads"] == source["heads"]
    # Under CPython's debug allocator freed memory is overwritten at once, so code that reads an object
    # after releasing it fails here instead of reading what happens to be left (it did: orjson on compiled
    # dataclasses, ledger.adapters.state_codec.dump). Same stream, same heads, no crash.
    checked = run(PYTHONMALLOC="pymalloc_debug")
    assert checked["heads"] == compiled["heads"]
