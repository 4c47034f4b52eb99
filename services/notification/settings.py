"""Configuration of the notification processes (environment variables, prefix NOTIFICATION_)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.notification.adapters.channels import SmtpConfig
from services.notification.domain.delivery import Backoff


class NotificationSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFICATION_", extra="ignore")

    channels: list[Literal["email", "sms", "post", "pickup"]] = Field(
        default=["email", "sms", "post", "pickup"], description="channels this installation runs"
    )
    sms_provider: Literal["none", "logging"] = Field(
        default="none",
        description="the SMS gateway: `none` (no SMS is planned) or `logging` (development only: logs"
        " ids and answers DELIVERED while nothing is sent)",
    )
    retry_initial_s: float = Field(default=30.0, gt=0, description="first retry of a failed delivery")
    retry_max_s: float = Field(default=1800.0, gt=0, description="longest wait between retries")
    give_up_s: float = Field(
        default=4 * 3600.0, gt=0, description="after this long a failing delivery is NOT_DELIVERED"
    )
    webhook_give_up_s: float = Field(default=4 * 3600.0, gt=0)
    webhook_timeout_s: float = Field(default=10.0, gt=0)
    webhook_allow_private: bool = Field(
        default=False,
        description="allow webhook URLs whose host resolves to loopback, link-local, private or reserved"
        " addresses (development and tests only: otherwise refused, against SSRF)",
    )
    dispatch_interval_s: float = Field(default=1.0, gt=0)
    dispatch_batch: int = Field(default=50, ge=1)
    lease_s: float = Field(default=120.0, gt=0, description="how long a worker holds a due delivery")
    send_timeout_s: float | None = Field(
        default=None,
        gt=0,
        description="overall deadline of one send (SMTP, SMS, webhook); default half the lease, and"
        " always shorter than the lease",
    )
    deferred_keep_s: float = Field(
        default=30 * 86400.0,
        gt=0,
        description="how long an event waits for its application's (or complaint's) registration before"
        " it is forgotten (operational, no legal number: 30 days by default)",
    )
    send_concurrency: int = Field(default=10, ge=1, description="sends of a batch under way at once")
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_security: Literal["none", "starttls", "tls"] = "none"
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "no-reply@qyzmet.local"
    smtp_timeout_s: float = 10.0
    pg_schema: str = Field(
        default="notification", description="the service's PostgreSQL schema (NOTIFICATION_PG_SCHEMA)"
    )
    api_port: int = 8003
    api_host: str = "127.0.0.1"
    source: str = "/qyzmet/notification"

    @property
    def offered_channels(self) -> tuple[str, ...]:
        """The channels notifications are planned on: `channels`, without SMS when no SMS
        provider is configured (a notice must not count as DELIVERED that no one sent)."""
        return tuple(ch for ch in self.channels if ch != "sms" or self.sms_provider != "none")

    @property
    def send_deadline_s(self) -> float:
        """The overall deadline of one send: shorter than the lease, so a send never outlives it."""
        half = self.lease_s / 2
        return min(self.send_timeout_s, half) if self.send_timeout_s is not None else half

    def backoff(self) -> Backoff:
        return Backoff(self.retry_initial_s, self.retry_max_s, self.give_up_s)

    def webhook_backoff(self) -> Backoff:
        return Backoff(self.retry_initial_s, self.retry_max_s, self.webhook_give_up_s)

    def smtp(self) -> SmtpConfig:
        return SmtpConfig(
            host=self.smtp_host,
            port=self.smtp_port,
            security=self.smtp_security,
            username=self.smtp_username,
            password=self.smtp_password,
            sender=self.smtp_from,
            timeout_s=self.smtp_timeout_s,
        )
