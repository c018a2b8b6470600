"""Service settings, read from PROMOFORGE_* environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything an operator can tune; build one per entry point, never at import time."""

    model_config = SettingsConfigDict(env_prefix="PROMOFORGE_", extra="ignore")

    data_dir: Path = Path("var")
    database_url: str | None = None
    public_url: str | None = Field(
        default=None, description="Base URL used in export links, if not the request's"
    )
    token_ttl_seconds: int = Field(default=3600, ge=1)
    export_link_ttl_seconds: int = Field(default=3600, ge=1)
    max_body_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    job_lease_seconds: float = Field(default=30.0, gt=0)
    job_poll_seconds: float = Field(default=0.5, gt=0)
    job_stall_seconds: float = Field(
        default=300.0, gt=0, description="A job with no step done this long is let go"
    )
    generate_chunk_size: int = Field(default=25_000, ge=1, description="Codes in the first batch of a job")
    generate_max_chunk_size: int = Field(default=100_000, ge=1, description="Most codes in one batch")
    generate_batch_seconds: float = Field(default=1.0, gt=0, description="Time one batch should take")
    export_chunk_rows: int = Field(default=20_000, ge=1)
    purge_batch_rows: int = Field(
        default=20_000, ge=1, description="Codes a deleted promotion's purge removes per transaction"
    )
    export_part_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    run_worker: bool = Field(default=True, description="Run a job worker inside each API process")
    worker_concurrency: int = Field(default=1, ge=1, le=64)
    sqlite_busy_timeout_ms: int = Field(default=30_000, ge=0)
    signing_keys: SecretStr | None = Field(
        default=None, description="kid:secret entries that sign tokens and links (the first signs)"
    )
    signing_key_file: Path | None = Field(default=None, description="A file of kid:secret entries")
    secrets_keys: SecretStr | None = Field(
        default=None,
        description="kid:<base64 of 32 bytes> entries that seal integration secrets (the first seals)",
    )
    secrets_key_file: Path | None = Field(default=None, description="A file of secrets key entries")
    delivery_concurrency: int = Field(
        default=16, ge=1, le=256, description="Integration deliveries a worker process attempts at once"
    )
    delivery_per_integration: int = Field(
        default=4, ge=1, le=64, description="Deliveries to one integration in flight at once, per worker"
    )
    delivery_poll_seconds: float = Field(
        default=0.5, gt=0, le=5, description="How often an idle worker looks for due deliveries (SQLite)"
    )
    sqs_endpoint_url: str | None = Field(
        default=None, description="Send aws_sqs deliveries to this SQS-compatible endpoint instead of AWS"
    )
    delivery_retry_scale: float = Field(
        default=1.0,
        gt=0,
        le=1,
        description="Multiplies every delay of the delivery retry schedule (5 s, 5 min, ... 24 h); below 1 "
        "only for tests and benchmarks",
    )
    integrations_private_targets: Literal["deny", "allow"] = Field(
        default="deny",
        description="allow: stores may open private, loopback and LAN receivers in allowed_private_targets",
    )
    signing_keys_refresh_seconds: float = Field(
        default=60.0, gt=0, description="How often each process re-reads the keys (rotations, retirements)"
    )

    process_healthcheck_seconds: int = Field(
        default=60,
        ge=1,
        description="Seconds `serve --workers N` gives an API process to answer its supervisor (start-up "
        "included) before replacing it",
    )
    expect_worker: bool = Field(
        default=True,
        description="Readiness needs a live job worker (this process's own, or with --no-worker any worker)",
    )
    worker_heartbeat_seconds: float = Field(
        default=10.0, gt=0, le=30, description="How often each worker process records that it is alive"
    )
    metrics_token: SecretStr | None = Field(
        default=None, description="Bearer token GET /metrics requires; open when unset"
    )
    log_format: Literal["text", "json"] = Field(
        default="text", description="text for people, json for one JSON object a line"
    )
    access_log: bool = Field(
        default=True, description="One line per request: method, route template, status and duration"
    )

    def resolved_database_url(self) -> str:
        """Return the database URL, defaulting to a SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'promoforge.db').resolve()}"
