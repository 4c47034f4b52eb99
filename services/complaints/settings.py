"""Configuration of the complaints service (environment variables, prefix COMPLAINTS_)."""

from __future__ import annotations

import hashlib
import hmac

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.auth.tokens import local_secret
from shared.settings import PlatformSettings


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
    clock_skew_s: float = Field(
        default=120.0,
        ge=0,
        description="how far in the future a complaint's received_at may lie (the office's clock"
        " against this service's; an operational tolerance, not a legal term)",
    )
    scheduler: bool = Field(default=True, description="run the review timer scheduler in the worker")
    scheduler_interval_s: float = Field(default=1.0, gt=0)
    scheduler_batch: int = Field(default=100, gt=0)
    timer_lease_s: float = Field(default=60.0, gt=0)
    timer_max_backoff_s: float = Field(default=300.0, gt=0)
    applicant_key: SecretStr | None = Field(
        default=None,
        description="the key of the keyed hash (HMAC-SHA256) of the applicant's ИИН kept in the read"
        " model to count distinct applicants served (the ИИН itself is never kept). Default: derived"
        " from the platform's token secret (QYZMET_TOKEN_SECRET, or the local development secret)."
        " Changing it splits the applicants counted across the change",
    )


def applicant_key(settings: ComplaintsSettings | None = None) -> bytes:
    """The key of the applicants' keyed hash (see `ComplaintsSettings.applicant_key`)."""
    configured = (settings or ComplaintsSettings()).applicant_key
    if configured is not None:
        return configured.get_secret_value().encode("utf-8")
    platform = PlatformSettings()
    secret = platform.token_secret or local_secret(platform.data_dir)
    return hmac.new(secret.encode("utf-8"), b"qyzmet.complaints.applicant-key", hashlib.sha256).digest()
