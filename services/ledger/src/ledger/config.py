"""Settings of the ledger service, from the environment (prefix LEDGER_)."""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from careruntime.settings_types import Count, Port, Seconds, ZeroOrMore
from pydantic_settings import BaseSettings, SettingsConfigDict

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LEDGER_")

    kafka_bootstrap: str = "127.0.0.1:9092"
    database_url: str = "postgresql://careledger@127.0.0.1:55432/ledger"
    group_id: str = "ledger"
    budget_topics: list[str] = ["allocation.events.v1"]  # where budgets are agreed
    other_topics: list[str] = ["payments.events.v1"]  # may refer to budgets agreed on budget_topics
    entries_topic: str = "ledger.entries.v1"
    max_records: Count = 5000
    # Per-partition fetch size. The worker releases a batch only up to the business time its partner
    # partitions have reached (service/ordering.py) and holds the rest, decoded, for the next batch; with
    # the held records kept (careruntime.held) a larger fetch no longer means decoding them again, and it
    # makes batches ~4x larger (~2,700 events instead of ~600 in `make bench`), which costs PostgreSQL ~15%
    # less per event and the worker fewer per-batch turns, at ~75 ms p50 / ~220 ms p99 commit latency
    # instead of ~22 / ~55 (docs/performance.md, "Eleventh pass").
    max_partition_fetch_bytes: Count = 512 * 1024
    # How long the broker may hold a fetch that has no data yet. aiokafka keeps one fetch in flight per
    # broker, built from the partitions that are neither paused nor still holding unread records; when
    # those are only partitions already read to their end, the fetch sits on the broker this long and
    # nothing else is fetched meanwhile: with Kafka's 500 ms the worker stalled 0.3-0.5 s at a time
    # while catching up a backlog. 50 ms bounds that stall; idle, it costs ~20 empty fetches a second.
    fetch_max_wait_ms: ZeroOrMore = 50
    # Records held back for business-time order are kept for the next batch; a partition with this many
    # held is not fetched further until its partners catch up (each batch offers them to ordering again).
    max_held_records: Count = 1
    max_defer_seconds: Seconds = 30.0
    # How often a batch also records every shard's chain head as a checkpoint (ledger_checkpoints).
    checkpoint_interval_s: Seconds = 60.0
    # How long a batch of which nothing can be applied in business order (a partner partition is behind
    # and none of its records has been fetched yet, e.g. just after a restart) is held before it is
    # taken in arrival order.
    order_patience_s: Seconds = 5.0
    # Batch transactions queued or running while the next batch is decided (careruntime.consumer):
    # 2 lets the worker decide batch N+2 while N commits and N+1 waits, so neither waits for the other.
    pipeline_depth: Count = 2
    # Whether a batch reads the processed-event log for its event ids first ("always"), or only after a
    # batch failed on the database's index of one outcome per event id ("optimistic": an id seen before is
    # rare, and the index refuses it anyway; the failed batch is decided again with the look-up, as is
    # every batch for `processed_lookup_careful_s` after that and while look-ups keep finding some).
    processed_lookup: Literal["optimistic", "always"] = "optimistic"
    processed_lookup_careful_s: Seconds = 60.0
    # The worker remembers the ids it decided (with their content hash and outcome) to answer resends in
    # memory; past this many it forgets them all at the next batch, so its memory does not grow with every
    # event it ever read. A resend of a forgotten id is refused by the database and decided again with the
    # look-up, as after a restart (~270 bytes an id: ~270 MB at the default).
    processed_cache_max: Count = 1_000_000
    pool_size: Count = 4
    health_port: Port = 8081
    log_level: str = "INFO"
    migrations_dir: Path = MIGRATIONS_DIR

    @property
    def input_topics(self) -> list[str]:
        return [*self.budget_topics, *self.other_topics]
