"""`qyzmet token --role ROLE --office OFFICE`: a development bearer token."""

from __future__ import annotations

import argparse
from datetime import timedelta
from typing import Any

from shared.auth.roles import Role
from shared.auth.tokens import issue_token, local_secret
from shared.settings import PlatformSettings


def _token(args: argparse.Namespace) -> int:
    settings = PlatformSettings()
    secret = settings.token_secret or local_secret(settings.data_dir)
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
