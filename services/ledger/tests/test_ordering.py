"""Business-time release of a batch across co-partitioned input topics (pure)."""
from collections import namedtuple
from datetime import datetime, timedelta, timezone

import pytest

from ledger.service.ordering import release

TP = namedtuple("TP", "topic partition")
Rec = namedtuple("Rec", "offset")
Env = namedtuple("Env", "time")
A, P = "allocation.events.v1", "payments.events.v1"
T0 = datetime(2026, 4, 1, tzinfo=timezone.utc)
RANK = {A: 0, P: 1}.__getitem__


def item(offset, seconds):
    return (Rec(offset), Env(T0 + timedelta(seconds=seconds)), f"ev{offset}@{seconds}")


def names(plan):
    return [[it[2] for _, it in group] for group in plan.groups]


def test_records_of_one_partition_number_are_merged_in_business_time():
    batch = {TP(A, 0): [item(0, 0), item(1, 2)], TP(P, 0): [item(0, 1)]}
    plan = release(batch, batch, lambda tp: False, RANK)
    assert names(plan) == [["ev0@0", "ev0@1", "ev1@2"]] and plan.resume == {}


def test_records_after_a_lagging_partners_last_record_wait():
    batch = {TP(A, 0): [item(0, 0), item(1, 5)], TP(P, 0): [item(0, 1), item(1, 3)]}
    plan = release(batch, batch, lambda tp: tp.topic == P, RANK)  # payments has more behind this batch
    assert names(plan) == [["ev0@0", "ev0@1", "ev1@3"]]
    assert plan.resume == {TP(A, 0): 1}


def test_a_lagging_partner_with_nothing_fetched_holds_its_group_but_others_go_on():
    batch = {TP(A, 0): [item(0, 0)], TP(A, 1): [item(0, 0)], TP(P, 1): [item(0, 1)]}
    assigned = [*batch, TP(P, 0)]
    plan = release(batch, assigned, lambda tp: tp == TP(P, 0), RANK)
    assert names(plan) == [["ev0@0", "ev0@1"]] and plan.resume == {TP(A, 0): 0} and not plan.fallback


def test_when_nothing_can_go_in_order_the_batch_is_taken_as_it_came():
    batch = {TP(A, 0): [item(0, 0)]}
    plan = release(batch, [*batch, TP(P, 0)], lambda tp: tp == TP(P, 0), RANK)
    assert plan.fallback and names(plan) == [["ev0@0"]] and plan.resume == {}


def test_equal_times_put_the_budget_topic_first():
    batch = {TP(P, 0): [item(7, 1)], TP(A, 0): [item(3, 1)]}
    assert names(release(batch, batch, lambda tp: False, RANK)) == [["ev3@1", "ev7@1"]]


def test_a_partition_is_never_reordered_or_skipped_even_when_its_times_go_backwards():
    # offset 6 is a resend carrying an old time; offsets 5..7 of allocation must still go in order
    batch = {TP(A, 0): [item(5, 100), item(6, 50), item(7, 60)], TP(P, 0): [item(0, 55)]}
    plan = release(batch, batch, lambda tp: tp.topic == P, RANK)  # watermark: payments' last key (t=55)
    released = [(tp.topic, it[0].offset) for group in plan.groups for tp, it in group]
    assert released == [(P, 0)]
    assert plan.resume == {TP(A, 0): 5}


def _reference_release(batch, lagging):
    """The release written plainly, independent of the module: merge each partition number's records
    with heapq.merge and a key function, then hold every record of a partition from its first one past
    the watermark; take everything as it came when nothing at all can go."""
    import heapq

    from ledger.service.ordering import order_key

    def by_key(streams):
        return list(heapq.merge(*streams, key=lambda x: x[0]))

    numbers = sorted({tp.partition for tp in batch})
    groups = [sorted((tp for tp in batch if tp.partition == p), key=lambda t: (RANK(t.topic), t.topic)) for p in numbers]
    merged_groups, released_groups, resume = [], [], {}
    for tps in groups:
        merged = by_key([[(order_key(RANK(tp.topic), it), tp, it) for it in batch[tp]] for tp in tps])
        merged_groups.append(merged)
        marks = [order_key(RANK(tp.topic), batch[tp][-1]) if batch[tp] else () for tp in tps if lagging(tp)]
        watermark = min(marks) if marks else None
        released, blocked = [], set()
        for key, tp, it in merged:
            if tp in blocked or (watermark is not None and key > watermark):
                if tp not in blocked:
                    blocked.add(tp)
                    resume[tp] = it[0].offset
                continue
            released.append((key, tp, it))
        released_groups.append(released)
    if batch and not any(released_groups):
        released_groups, resume = merged_groups, {}
    released_groups = [g for g in released_groups if g]
    sequence = [(tp, it) for _, tp, it in by_key(released_groups)]
    return [[(tp, it) for _, tp, it in g] for g in released_groups], sequence, resume


def _short_jumbled_times(rng):
    return [rng.choice([0, 1, 1, 2, 3, 5, 8]) for _ in range(rng.randint(0, 6))]


def _long_mostly_rising_times(rng):
    # a partition's usual shape: rising times, with now and then a resend carrying an older time
    t, times = rng.randint(0, 50), []
    for _ in range(rng.randint(0, 40)):
        t += rng.choice([0, 1, 2, 5, 20])
        times.append(t - rng.randint(1, 30) if rng.random() < 0.05 else t)
    return times


@pytest.mark.parametrize("times", [_short_jumbled_times, _long_mostly_rising_times])
def test_release_matches_the_key_function_merge_on_random_batches(times):
    # ties in time, times going backwards, partitions lagging, partitions held whole or in part: the
    # release must give the same groups, order and resume offsets as the first, plain implementation
    import random

    rng = random.Random(11)
    for _ in range(300):
        batch = {}
        for tp in (TP(A, 0), TP(P, 0), TP(A, 1), TP(P, 1)):
            if rng.random() < 0.8:
                batch[tp] = [item(o, t) for o, t in enumerate(times(rng))]
        lag = {tp for tp in batch if rng.random() < 0.3}
        lagging = lag.__contains__
        plan = release(batch, batch, lagging, RANK)
        groups, sequence, resume = _reference_release(batch, lagging)
        assert (plan.groups, plan.sequence, plan.resume) == (groups, sequence, resume)


def test_until_falling_back_is_allowed_a_batch_of_which_nothing_can_go_in_order_is_held_whole():
    batch = {TP(P, 0): [item(4, 9), item(5, 10)], TP(P, 1): [item(2, 3)]}
    assigned = [*batch, TP(A, 0), TP(A, 1)]  # allocation is behind on both, nothing of it fetched yet
    plan = release(batch, assigned, lambda tp: tp.topic == A, RANK, may_fall_back=False)
    assert plan.waiting and not plan.fallback and plan.groups == [] and plan.sequence == []
    assert plan.resume == {TP(P, 0): 4, TP(P, 1): 2}
    later = release(batch, assigned, lambda tp: tp.topic == A, RANK, may_fall_back=True)
    assert later.fallback and not later.waiting and names(later) == [["ev4@9", "ev5@10"], ["ev2@3"]]


# -- _kmerge: heapq.merge's order, without its generator ---------------------------------------------------

import heapq  # noqa: E402

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from ledger.service.ordering import _kmerge  # noqa: E402


@given(st.lists(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 3)), max_size=8), max_size=5))
def test_kmerge_gives_heapq_merge_order_for_tagged_streams_even_when_a_stream_is_not_sorted(raw):
    """Streams tagged with their number (as `_merge` and `_tagged` make them), in any order within a stream:
    exactly what heapq.merge yields, which never reorders a stream."""
    streams = [[(key, n, payload) for key, payload in stream] for n, stream in enumerate(raw)]
    assert _kmerge(streams) == list(heapq.merge(*streams))
