"""Who issues a command: a person (a token's subject, role and office), an office system
(`ce_actor` and `ce_office` of a Kafka command), or the service itself (timers, automated steps)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    subject: str
    role: str
    office: str

    @property
    def is_system(self) -> bool:
        return self.role == SYSTEM_ROLE


SYSTEM_ROLE = "system"
