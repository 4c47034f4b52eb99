"""The audit chains' HMAC key: never in the database.

`QYZMET_AUDIT_KEY` in production; locally a key made once in `<data dir>/audit_key` (readable
by the owner only), like the token secret. A command uses the key of the installation it talks to
(`shared.runtime.command_secrets`: the running system's, found from any folder). Every record
names the key it was made with by a key id (a MAC of a fixed text, which reveals nothing of the
key)."""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.runtime.command_secrets import SecretKind, SecretNotFound, command_secret
from shared.secret_files import local_secret_file

KEY_FILE = "audit_key"
AUDIT_KEY_ENV = "QYZMET_AUDIT_KEY"


class AuditSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    audit_key: str | None = Field(default=None, alias=AUDIT_KEY_ENV)
    data_dir: Path = Field(default=Path(".data"), alias="QYZMET_DATA_DIR")
    anchor_interval_s: float = Field(default=60.0, gt=0, alias="QYZMET_AUDIT_ANCHOR_INTERVAL_S")


class AuditKeyMissing(RuntimeError):
    pass


AUDIT_KEY = SecretKind(KEY_FILE, AUDIT_KEY_ENV, "audit key", lambda system: system.audit_key_from_env)


@dataclass(frozen=True)
class AuditKey:
    secret: bytes

    @functools.cached_property
    def kid(self) -> str:
        return hmac.new(self.secret, b"qyzmet audit key id", hashlib.sha256).hexdigest()[:12]

    @functools.cached_property
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


def command_audit_key(data_dir: Path | str | None = None, env: Mapping[str, str] | None = None) -> AuditKey:
    """The key a command that writes audit records (`qyzmet params set`) appends with: the
    installation's (`shared.runtime.command_secrets`; never a new one in a running system's data
    dir), else, with none running, the data dir's, made on first use."""
    return _command_key(create=True, data_dir=data_dir, env=env)


def _command_key(*, create: bool, data_dir: Path | str | None, env: Mapping[str, str] | None) -> AuditKey:
    try:
        found = command_secret(AUDIT_KEY, create=create, data_dir=data_dir, env=env)
    except SecretNotFound as exc:
        raise AuditKeyMissing(str(exc)) from exc
    return AuditKey(found.value.encode("utf-8"))


@functools.cache
def default_audit_key() -> AuditKey:
    """The process's key, read once."""
    return service_audit_key()


def find_audit_key(data_dir: Path | str | None = None, env: Mapping[str, str] | None = None) -> AuditKey:
    """The key a command verifies with: `QYZMET_AUDIT_KEY`, else the installation's
    (`shared.runtime.command_secrets`). Never made anew: a new key would verify nothing."""
    return _command_key(create=False, data_dir=data_dir, env=env)
