"""Configuration of intake's catalog parameters (environment variables, prefix INTAKE_)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class IntakeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore")

    use_example_parameters: bool = Field(
        default=True,
        description="also use the shipped EXAMPLE parameter values (development), e.g. an example housing"
        " assistance term; false in production, where only values an administrator recorded count",
    )
    parameter_refresh_s: float = Field(
        default=5.0, ge=0, description="how often administrator-set parameter values are re-read"
    )
    catalog_schema: str = Field(default="catalog", description="where administrator decisions are stored")
