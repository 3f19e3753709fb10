"""Settings of the reporting HTTP API and dashboard, from the environment (prefix REPORTING_).

Access keys are configuration, never code: REPORTING_API_KEYS is a JSON list of
{"key_sha256": "<hex sha256 of the key>", "council_id": "...", "role": "finance"|"auditor", "label": "..."}.
Only hashes are configured, so the settings (a Kubernetes secret, an env file) never hold a usable key.
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from .assets import REPO_ROOT
from .charts import DEFAULT_EXTERNAL_TARGET

Role = Literal["finance", "auditor"]


class ApiKey(BaseModel):
    """One configured key: the sha256 of the secret, the one council it may see, and its role."""

    key_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    council_id: str = Field(min_length=1)
    role: Role
    label: str = ""  # who holds it (for logs); never the key itself


class WebSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REPORTING_")

    database_url: str = "postgresql://careledger@127.0.0.1:55432/reporting"
    api_keys: list[ApiKey] = []
    http_host: str = "0.0.0.0"
    http_port: int = 8086
    pool_size: int = 4
    statement_timeout_ms: int = 30_000
    log_level: str = "INFO"
    # The npm package's folder; empty means the one deploy/local/install-node-deps.sh installs.
    govuk_frontend_dir: Path | None = None
    audit_pack_dir: Path = REPO_ROOT / "out" / "audit-packs"
    # Share of spend that should go to external providers, per council (default for the rest).
    external_share_target: float = Field(DEFAULT_EXTERNAL_TARGET, ge=0, le=1)
    external_share_targets: dict[str, float] = {}
    # Reports the dashboard runs and charts (names not registered are left out).
    dashboard_reports: list[str] = ["provider_type_spend"]
    # The sign-in cookie is Secure by default (browsers still send it to http://localhost).
    cookie_secure: bool = True

    def target_for(self, council_id: str) -> float:
        return self.external_share_targets.get(council_id, self.external_share_target)
