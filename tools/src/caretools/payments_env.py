"""Settings of `python -m payments worker|relay|timer` as environment variables, for the demo, the
payments benchmark and tests that run the service as child processes (health on p, relay p+1, timer p+2)."""
from __future__ import annotations

from pathlib import Path

from careruntime.stackinfo import StackInfo


def payments_env(info: StackInfo, dsn: str, topics: dict[str, str], group: str, health_port: int, *,
                 out_dir: Path, bank_directory: Path | None = None, **extra) -> dict[str, str]:
    env = {
        "PAYMENTS_KAFKA_BOOTSTRAP": info.bootstrap, "PAYMENTS_DATABASE_URL": dsn, "PAYMENTS_GROUP_ID": group,
        "PAYMENTS_ALLOCATION_EVENTS_TOPIC": topics["allocation.events.v1"],
        "PAYMENTS_COMMANDS_TOPIC": topics["payments.commands.v1"], "PAYMENTS_EVENTS_TOPIC": topics["payments.events.v1"],
        "PAYMENTS_HEALTH_PORT": str(health_port), "PAYMENTS_LOG_LEVEL": "WARNING", "PAYMENTS_OUT_DIR": str(out_dir),
    }
    if bank_directory is not None:
        env["PAYMENTS_BANK_DIRECTORY"] = str(bank_directory)
    env.update({f"PAYMENTS_{k.upper()}": str(v) for k, v in extra.items()})
    return env
