"""The console's configuration, from the environment."""

from __future__ import annotations

import os

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

SERVICE_PORTS = {"intake": 8001, "decision": 8002, "notification": 8003, "complaints": 8004}
"""The services the console reads, and their default API ports (as their plugins give them)."""


def service_url(service: str) -> str:
    """`<SERVICE>_API_URL`, else the local API on `<SERVICE>_API_PORT` (what `qyzmet run` sets)."""
    prefix = service.upper()
    given = os.environ.get(f"{prefix}_API_URL")
    if given:
        return given.rstrip("/")
    port = os.environ.get(f"{prefix}_API_PORT", str(SERVICE_PORTS[service]))
    return f"http://127.0.0.1:{port}"


class ConsoleSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CONSOLE_", extra="ignore")

    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8005, ge=1, le=65535)
    approaching_days: int = Field(
        default=3, ge=0, le=90, description="an open application due within this many days is approaching"
    )
    cookie_secure: bool = Field(default=False, description="true behind HTTPS: the cookie goes over TLS only")
    request_timeout_s: float = Field(default=10.0, gt=0)

    def urls(self) -> dict[str, str]:
        return {service: service_url(service) for service in SERVICE_PORTS}
