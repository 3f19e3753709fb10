"""Settings of the payments service, from the environment (prefix PAYMENTS_)."""
from __future__ import annotations

from datetime import date
from pathlib import Path

from careruntime.settings_types import Count, Port, Seconds
from pydantic_settings import BaseSettings, SettingsConfigDict

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PAYMENTS_")

    kafka_bootstrap: str = "127.0.0.1:9092"
    database_url: str = "postgresql://careledger@127.0.0.1:55432/payments"
    group_id: str = "payments"
    allocation_events_topic: str = "allocation.events.v1"
    commands_topic: str = "payments.commands.v1"
    events_topic: str = "payments.events.v1"
    max_records: Count = 5000
    # A command naming a budget or provider not in the read model yet waits this long at most while
    # allocation.events.v1 has records the worker has not fetched, then is refused.
    max_defer_s: Seconds = 30.0
    # A payment run with more payments than this is made in parts, one transaction each (service.runs).
    run_part_size: Count = 10_000
    pool_size: Count = 4
    health_port: Port = 8096  # the relay serves on health_port + 1, the timer on + 2
    log_level: str = "INFO"
    migrations_dir: Path = MIGRATIONS_DIR
    # Bank files: where they are written, the council's bank directory (account_ref -> account, CSV) and
    # the paying account (originator).
    out_dir: Path = Path("out")
    bank_directory: Path | None = None
    originator_name: str = "COUNCIL ASC PAYMENTS"
    originator_sort_code: str = "202015"
    originator_account_number: str = "55555555"
    originator_service_user_number: str = "123456"
    originator_iban: str = "GB33BUKB20201555555555"
    originator_bic: str = "BUKBGB22"
    # The timer's business clock: a fixed date (tests, replays) or today when unset; how often it ticks.
    business_date: date | None = None
    timer_interval_s: Seconds = 60.0
