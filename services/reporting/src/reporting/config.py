"""Settings of the reporting service, from the environment (prefix REPORTING_)."""
from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REPORTING_")

    kafka_bootstrap: str = "127.0.0.1:9092"
    database_url: str = "postgresql://careledger@127.0.0.1:55432/reporting"
    # Read-only use only: rebuild --from journal, sync-ledger and `ledger verify` read the ledger's database.
    ledger_database_url: str = "postgresql://careledger@127.0.0.1:55432/ledger"
    group_id: str = "reporting"
    entries_topic: str = "ledger.entries.v1"
    domain_topics: list[str] = ["allocation.events.v1", "payments.events.v1"]
    max_records: int = 5000
    pool_size: int = 4  # at least rebuild_streams + 1
    health_port: int = 8085
    log_level: str = "INFO"
    migrations_dir: Path = MIGRATIONS_DIR
    # Rebuild from the journal: entries per committed (checkpointed) chunk.
    rebuild_chunk: int = 500_000
    # Rebuild from the journal: parallel COPY streams (each a ledger and a projection connection).
    rebuild_streams: int = 2

    @property
    def topics(self) -> list[str]:
        return [self.entries_topic, *self.domain_topics]
