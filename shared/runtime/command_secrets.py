"""The secrets a command shares with the installation it talks to (the token secret, the audit
key), found by the one rule of `shared.runtime.running.current_installation`.

The environment's variable wins. Else, when a system runs: the secret it took from its own
environment (its record says so, never the value) must be given to the command under the same
variable, and one it keeps in its data directory is read from there; a command never makes a new
secret in a running system's data directory (the system would refuse what it signs). With none
running, the data directory's secret, made when the caller may make one (`create`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from shared.runtime.running import DATA_DIR_ENV, RunningSystem, current_installation
from shared.secret_files import local_secret_file


class SecretNotFound(RuntimeError):
    """The command cannot use the installation's secret; the message says what to set."""


@dataclass(frozen=True)
class CommandSecret:
    value: str
    path: Path | None
    """The file it was read from (None: the environment's)."""
    made: bool = False
    """Made now: no system runs, and the data directory had none."""


@dataclass(frozen=True)
class SecretKind:
    file_name: str
    variable: str
    what: str
    """As a person says it: "token secret", "audit key"."""
    taken_from_env: Callable[[RunningSystem], bool]


def command_secret(
    kind: SecretKind,
    *,
    create: bool,
    data_dir: Path | str | None = None,
    env: Mapping[str, str] | None = None,
) -> CommandSecret:
    """`kind`'s secret for a command: `kind.variable`, else the installation's (see the module)."""
    env = os.environ if env is None else env
    given = env.get(kind.variable)
    if given:
        return CommandSecret(given, None)
    found = current_installation(data_dir, env)
    path = found.data_dir / kind.file_name
    system = found.system
    if system is not None and kind.taken_from_env(system):
        raise SecretNotFound(
            f"the system running from {found.data_dir} (pid {system.pid}) takes its {kind.what} from"
            f" {kind.variable}: set {kind.variable} in this shell as the system has it"
        )
    if path.exists():
        return CommandSecret(local_secret_file(found.data_dir, kind.file_name), path)
    if system is not None:
        raise SecretNotFound(
            f"the system running from {found.data_dir} (pid {system.pid}) keeps no {kind.what} in"
            f" {path}: set {kind.variable} in this shell as the system has it"
        )
    if not create:
        raise SecretNotFound(
            f"no {kind.what}: set {kind.variable}, or {DATA_DIR_ENV} to the system's data directory"
            f" (looked for {path.resolve()}; no running system found)"
        )
    return CommandSecret(local_secret_file(found.data_dir, kind.file_name), path, made=True)
