"""The audit keys a verifier knows: the current key (which signs new records) and the previous
ones (which signed older records), so the audit key can be rotated.

Every record names the key that made it (`alg` = "hmac-sha256/<key id>"), so each record is
checked with that key. Rotation: give the services a new `QYZMET_AUDIT_KEY` (locally: move
`<data dir>/audit_key` into `<data dir>/audit_previous_keys` and let the next start make a new
one), and give verifiers the old key in `QYZMET_AUDIT_PREVIOUS_KEYS` (comma-separated) or as a
line of `<data dir>/audit_previous_keys` (readable by the owner only). A record made with a key
the verifier lacks is reported as signed by another key, naming its key id.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from shared.audit.keys import AuditKey

PREVIOUS_KEYS_ENV = "QYZMET_AUDIT_PREVIOUS_KEYS"
PREVIOUS_KEYS_FILE = "audit_previous_keys"
KEYED_ALG = "hmac-sha256/"
"""The prefix of a keyed record's `alg`; the key id follows."""


@dataclass(frozen=True)
class AuditKeyRing:
    current: AuditKey
    previous: tuple[AuditKey, ...] = ()

    @functools.cached_property
    def keys(self) -> tuple[AuditKey, ...]:
        """The current key, then the previous ones, each once."""
        seen: dict[str, AuditKey] = {}
        for key in (self.current, *self.previous):
            seen.setdefault(key.kid, key)
        return tuple(seen.values())

    @functools.cached_property
    def kids(self) -> tuple[str, ...]:
        return tuple(key.kid for key in self.keys)

    def for_alg(self, alg: str) -> AuditKey | None:
        """The key a record with this `alg` was made with, when the ring holds it."""
        return self._by_alg.get(alg)

    @functools.cached_property
    def _by_alg(self) -> dict[str, AuditKey]:
        return {key.alg: key for key in self.keys}

    def lacking(self, alg: str) -> str:
        """Why a record made with `alg`, which no key of the ring made, cannot be checked."""
        kid, known = key_id_of(alg), ", ".join(self.kids)
        if kid is None:
            return f"it was made with another algorithm ({alg}; the keys given are {known})"
        return (
            f"it was signed by another key ({kid}; previous key needed: {PREVIOUS_KEYS_ENV}"
            f" or <data dir>/{PREVIOUS_KEYS_FILE}; the keys given are {known})"
        )

    def __repr__(self) -> str:
        return f"AuditKeyRing(current={self.current.kid!r}, previous={[k.kid for k in self.previous]!r})"


def key_id_of(alg: str) -> str | None:
    """The key id a keyed record's `alg` names (None: not a keyed record)."""
    return alg.removeprefix(KEYED_ALG) if alg.startswith(KEYED_ALG) else None


def previous_audit_keys(
    data_dir: Path | str | None = None, env: Mapping[str, str] | None = None
) -> tuple[AuditKey, ...]:
    """The previous keys: `QYZMET_AUDIT_PREVIOUS_KEYS` (comma-separated), then the lines of
    `<data_dir>/audit_previous_keys` (blank lines and lines starting with # are skipped)."""
    env = os.environ if env is None else env
    texts = [part.strip() for part in env.get(PREVIOUS_KEYS_ENV, "").split(",")]
    if data_dir is not None:
        path = Path(data_dir) / PREVIOUS_KEYS_FILE
        if path.exists():
            texts += [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    return tuple(AuditKey(text.encode("utf-8")) for text in texts if text and not text.startswith("#"))


def audit_key_ring(
    current: AuditKey, data_dir: Path | str | None = None, env: Mapping[str, str] | None = None
) -> AuditKeyRing:
    """`current` and the previous keys of the environment and `data_dir`."""
    return AuditKeyRing(current, previous_audit_keys(data_dir, env))


def as_ring(keys: AuditKey | AuditKeyRing | Iterable[AuditKey]) -> AuditKeyRing:
    if isinstance(keys, AuditKeyRing):
        return keys
    if isinstance(keys, AuditKey):
        return AuditKeyRing(keys)
    first, *rest = keys
    return AuditKeyRing(first, tuple(rest))
