"""`qyzmet token --role ROLE --office OFFICE`: a development bearer token."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.auth.roles import Role

TOKEN_SECRET_ENV = "QYZMET_TOKEN_SECRET"  # noqa: S105 -- a variable's name, not a secret


@dataclass(frozen=True)
class TokenEnvironment:
    """The issuer a token names, read straight from the environment under the name
    `PlatformSettings` gives it: making a token loads no settings library (it answers at once).
    The secret is `token_secret`'s."""

    token_issuer: str

    @classmethod
    def read(cls) -> TokenEnvironment:
        return cls(token_issuer=os.environ.get("QYZMET_TOKEN_ISSUER") or "qyzmet")


def token_secret(data_dir: Path | str | None = None) -> str:
    """The secret the services accept: `QYZMET_TOKEN_SECRET`, else the secret of the installation
    the command talks to (`shared.runtime.command_secrets`: the running system's, found from any
    folder; `data_dir` is a `--data-dir` option), else, with none running, the data dir's - made
    there if it has none, and then the console is told where. Raises `SecretNotFound` (what to
    set) for a running system that took its secret from its environment."""
    from shared.auth.tokens import SECRET_FILE
    from shared.runtime.command_secrets import SecretKind, command_secret
    from shared.runtime.running import RunningSystem

    def taken_from_env(system: RunningSystem) -> bool:
        return system.token_secret_from_env

    kind = SecretKind(SECRET_FILE, TOKEN_SECRET_ENV, "token secret", taken_from_env)
    found = command_secret(kind, create=True, data_dir=data_dir)
    if found.made and found.path is not None:
        print(
            f"qyzmet: no running system found; made a new token secret in {found.path.resolve()}"
            " - services started with this data directory will accept the token",
            file=sys.stderr,
        )
    return found.value


def _token(args: argparse.Namespace) -> int:
    from datetime import timedelta

    from shared.auth.tokens import issue_token
    from shared.runtime.command_secrets import SecretNotFound

    settings = TokenEnvironment.read()
    try:
        secret = token_secret()
    except SecretNotFound as exc:
        print(f"qyzmet token: {exc}", file=sys.stderr)
        return 2
    print(
        issue_token(
            secret,
            subject=args.subject or f"{args.role}@{args.office}",
            role=Role(args.role),
            office=args.office,
            issuer=settings.token_issuer,
            ttl=timedelta(hours=args.hours),
        )
    )
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("token", help="print a bearer token the services accept")
    parser.add_argument("--role", required=True, choices=[role.value for role in Role])
    parser.add_argument("--office", required=True, help="office id, e.g. karaganda-dept-01")
    parser.add_argument("--subject", help="who the token is for (default: role@office)")
    parser.add_argument("--hours", type=float, default=12.0, help="validity in hours")
    parser.set_defaults(handler=_token)
