"""The audit chains' HMAC key: never in the database.

`QYZMET_AUDIT_KEY` in production; locally a key made once in `<data dir>/audit_key` (readable
by the owner only), like the token secret. The CLI finds the running system's key from any folder
(`shared.runtime.running`). Every record names the key it was made with by a key id (a MAC of a
fixed text, which reveals nothing of the key)."""

from __future__ import annotations

import functools
import hashlib
import hmac
from dataclasses import dataclass
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.runtime.running import find_running
from shared.secret_files import local_secret_file

KEY_FILE = "audit_key"


class AuditSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    audit_key: str | None = Field(default=None, alias="QYZMET_AUDIT_KEY")
    data_dir: Path = Field(default=Path(".data"), alias="QYZMET_DATA_DIR")
    anchor_interval_s: float = Field(default=60.0, gt=0, alias="QYZMET_AUDIT_ANCHOR_INTERVAL_S")


class AuditKeyMissing(RuntimeError):
    pass


@dataclass(frozen=True)
class AuditKey:
    secret: bytes

    @property
    def kid(self) -> str:
        return hmac.new(self.secret, b"qyzmet audit key id", hashlib.sha256).hexdigest()[:12]

    @property
    def alg(self) -> str:
        """What a record made with this key says it is: the algorithm and the key's id."""
        return f"hmac-sha256/{self.kid}"

    def mac(self, message: bytes) -> str:
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()

    def __repr__(self) -> str:
        return f"AuditKey(kid={self.kid!r})"


def _file_key(data_dir: Path, *, create: bool) -> AuditKey | None:
    if not create and not (data_dir / KEY_FILE).exists():
        return None
    return AuditKey(local_secret_file(data_dir, KEY_FILE).encode("utf-8"))


def ensure_audit_key(data_dir: Path) -> None:
    """Make the data dir's key now, unless the environment gives one (`qyzmet run`, before its processes)."""
    if not AuditSettings().audit_key:
        _file_key(data_dir, create=True)


def service_audit_key(settings: AuditSettings | None = None) -> AuditKey:
    """The key a service process appends with: `QYZMET_AUDIT_KEY`, else its data dir's (made on first use)."""
    settings = settings or AuditSettings()
    if settings.audit_key:
        return AuditKey(settings.audit_key.encode("utf-8"))
    key = _file_key(settings.data_dir, create=True)
    assert key is not None
    return key


def command_audit_key(settings: AuditSettings | None = None) -> AuditKey:
    """The key a command that writes audit records (`qyzmet params set`) appends with: the running
    system's as `find_audit_key` finds it from any folder, else a new one in the data dir."""
    try:
        return find_audit_key(settings)
    except AuditKeyMissing:
        return service_audit_key(settings)


@functools.cache
def default_audit_key() -> AuditKey:
    """The process's key, read once."""
    return service_audit_key()


def find_audit_key(settings: AuditSettings | None = None) -> AuditKey:
    """The key a command verifies with: the environment's, else the data dir's, else the running
    system's (found from any folder). Never made anew: a new key would verify nothing."""
    settings = settings or AuditSettings()
    if settings.audit_key:
        return AuditKey(settings.audit_key.encode("utf-8"))
    key = _file_key(settings.data_dir, create=False)
    if key is not None:
        return key
    system = find_running(settings.data_dir)
    if system is not None:
        key = _file_key(Path(system.data_dir), create=False)
        if key is not None:
            return key
    raise AuditKeyMissing(
        f"no audit key: set QYZMET_AUDIT_KEY, or QYZMET_DATA_DIR to the system's data directory"
        f" (looked for {(settings.data_dir / KEY_FILE).resolve()} and the running system's)"
    )
