"""Configuration of the complaints service (environment variables, prefix COMPLAINTS_)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ComplaintsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COMPLAINTS_", extra="ignore")

    use_example_parameters: bool = Field(
        default=True,
        description="also use the shipped EXAMPLE / DEFAULT parameter values (the review term); false"
        " in production, where only values an administrator recorded count",
    )
    parameter_refresh_s: float = Field(default=5.0, ge=0)
    catalog_schema: str = Field(default="catalog")
    approaching_days: int = Field(
        default=3,
        ge=0,
        description="how many days before the review term runs out the approaching event fires (an"
        " operational choice of this service, not a legal term)",
    )
    scheduler: bool = Field(default=True, description="run the review timer scheduler in the worker")
    scheduler_interval_s: float = Field(default=1.0, gt=0)
    scheduler_batch: int = Field(default=100, gt=0)
    timer_lease_s: float = Field(default=60.0, gt=0)
    timer_max_backoff_s: float = Field(default=300.0, gt=0)
