"""`qyzmet token --role ROLE --office OFFICE`: a development bearer token."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from shared.auth.roles import Role


class SecretSource(Protocol):
    """Where a token secret may come from (`PlatformSettings` is one)."""

    @property
    def token_secret(self) -> str | None: ...

    @property
    def data_dir(self) -> Path: ...


@dataclass(frozen=True)
class TokenEnvironment:
    """The three settings a token needs, read straight from the environment under the names
    `PlatformSettings` gives them: making a token loads no settings library (it answers at once)."""

    token_secret: str | None
    data_dir: Path
    token_issuer: str

    @classmethod
    def read(cls) -> TokenEnvironment:
        return cls(
            token_secret=os.environ.get("QYZMET_TOKEN_SECRET") or None,
            data_dir=Path(os.environ.get("QYZMET_DATA_DIR") or ".data"),
            token_issuer=os.environ.get("QYZMET_TOKEN_ISSUER") or "qyzmet",
        )


def token_secret(settings: SecretSource) -> str:
    """The secret the services accept: `QYZMET_TOKEN_SECRET`, else the secret in the data dir
    (`QYZMET_DATA_DIR` or `./.data`), else the running system's (found from any folder), else a
    new one in the data dir — and then the console is told where it was made."""
    from shared.auth.tokens import SECRET_FILE, local_secret
    from shared.runtime.running import find_running

    if settings.token_secret:
        return settings.token_secret
    here = Path(settings.data_dir)
    if (here / SECRET_FILE).exists():
        return local_secret(here)
    system = find_running(here)
    if system is not None:
        return local_secret(Path(system.data_dir))
    secret = local_secret(here)
    print(
        f"qyzmet: no running system found; made a new token secret in {(here / SECRET_FILE).resolve()}"
        " - services started with this data directory will accept the token",
        file=sys.stderr,
    )
    return secret


def _token(args: argparse.Namespace) -> int:
    from datetime import timedelta

    from shared.auth.tokens import issue_token

    settings = TokenEnvironment.read()
    secret = token_secret(settings)
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
