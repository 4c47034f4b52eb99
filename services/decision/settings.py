"""Configuration of the decision processes (environment variables, prefix DECISION_)."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class DecisionSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DECISION_", extra="ignore")

    approaching_share: Decimal = Field(
        default=Decimal("0.75"),
        gt=0,
        lt=1,
        description="share of the term after which DeadlineApproaching fires, unless the catalog parameter"
        " deadline_approaching_share is in force",
    )
    reconfirmation_notice_days: int = Field(default=10, ge=0)
    scheduler_interval_s: float = Field(default=1.0, gt=0)
    scheduler_batch: int = Field(default=100, ge=1)
    timer_lease_s: float = Field(
        default=60.0, gt=0, description="how long a scheduler holds a due timer before another may fire it"
    )
    timer_max_backoff_s: float = Field(
        default=3600.0, gt=0, description="longest wait before a failed timer is retried"
    )
    use_example_parameters: bool = Field(
        default=True,
        description="also use the shipped EXAMPLE parameter values (development); false in production, where"
        " only values an administrator recorded (`qyzmet params set`) count",
    )
    parameter_refresh_s: float = Field(
        default=5.0, ge=0, description="how often administrator-set parameter values are re-read"
    )
    catalog_schema: str = Field(default="catalog", description="where administrator decisions are stored")
    api_port: int = 8002
    api_host: str = "127.0.0.1"
    source: str = "/qyzmet/decision"
