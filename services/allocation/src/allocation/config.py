"""Settings of the allocation service, from the environment (prefix ALLOCATION_)."""
from __future__ import annotations

from pathlib import Path

from careruntime.settings_types import Count, Port, Seconds
from pydantic_settings import BaseSettings, SettingsConfigDict

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ALLOCATION_")

    kafka_bootstrap: str = "127.0.0.1:9092"
    database_url: str = "postgresql://careledger@127.0.0.1:55432/allocation"
    group_id: str = "allocation"
    commands_topic: str = "allocation.commands.v1"
    events_topic: str = "allocation.events.v1"
    max_records: Count = 5000
    pool_size: Count = 4
    health_port: Port = 8091  # the relay serves on health_port + 1
    log_level: str = "INFO"
    migrations_dir: Path = MIGRATIONS_DIR
    # The read-only budget view (faust): its consumer group / app id, HTTP port, and the partition
    # count of events_topic (its table is co-partitioned with it).
    views_app_id: str = "allocation-views"
    views_host: str = "0.0.0.0"
    views_port: Port = 8095
    views_partitions: Count = 6
    # How soon a views worker that died without leaving the group is replaced (faust's session timeout).
    views_session_timeout_s: Seconds = 30.0
    # How long a views worker waits for a record that exists on a partition it owns before it seeks
    # faust back and resumes the partition (entrypoints/views_guard.py); four times this, /readyz fails.
    views_stall_s: Seconds = 15.0
    # Where faust keeps its small local files (the table itself is in memory and in its changelog);
    # faust's default is "<app id>-data" in the working directory.
    views_data_dir: Path | None = None
