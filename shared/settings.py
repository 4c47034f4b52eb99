"""Process configuration from environment variables (one settings model per process)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class PlatformSettings(BaseSettings):
    """What every Qyzmet process reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    database_url: str | None = Field(default=None, description="PostgreSQL URL; unset: start or reuse local")
    kafka_bootstrap_servers: str | None = Field(default=None, description="Kafka bootstrap servers")
    kafka_local_broker: str = Field(default="noida", description="noida or tansu, when no Kafka is given")
    kafka_idempotent_producer: bool = Field(default=True, description="false for brokers without idempotence")
    topic_partitions: int = Field(default=6, ge=1, description="partitions of domain topics")
    topic_prefix: str = Field(default="", description="prefix of every topic name (test isolation)")
    data_dir: Path = Field(default=Path(".data"), alias="QYZMET_DATA_DIR")
    token_secret: str | None = Field(default=None, alias="QYZMET_TOKEN_SECRET")
    token_issuer: str = Field(default="qyzmet", alias="QYZMET_TOKEN_ISSUER")
    log_level: str = Field(default="INFO", alias="QYZMET_LOG_LEVEL")
    worker_stall_s: float = Field(
        default=90.0,
        ge=0,
        alias="QYZMET_WORKER_STALL_S",
        description="idle agents with records waiting this long: the worker exits for a restart (0: never)",
    )
    instance_ordinal: int = Field(
        default=0, ge=0, alias="QYZMET_INSTANCE", description="static member ordinal"
    )
