"""`qyzmet status APPLICATION --as-of ISO8601`: an application as it stood at a past moment,
folded from its events (the status projection's own code) up to that moment. Without `--as-of`:
now. No personal data is printed (the applicant's ИИН is left out)."""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from shared.cli import checked_database_url

if TYPE_CHECKING:  # the database and services' code load when the command runs, not for `--help`
    from shared.replay.spec import ProjectionSpec

HIDDEN = ("applicant_iin",)
"""Personal data the command never prints."""


def _status_projection() -> ProjectionSpec | None:
    from shared.runtime.registry import registered_services

    specs = (spec for plugin in registered_services() for spec in plugin.load_projections().values())
    return next((spec for spec in specs if spec.as_of is not None), None)


def _moment(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 time") from exc
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def render(view: Mapping[str, Any], moment: datetime) -> str:
    """The view as lines a person reads."""
    lines = [f"application {view['application_id']} as of {moment.isoformat()}"]
    since = f" (since {_plain(view['status_at'])})" if view.get("status_at") else ""
    lines.append(f"  status: {view['status']}{since}{'' if view['is_open'] else ', closed'}")
    for label, column in (
        ("registration number", "registration_number"), ("service", "service_id"), ("office", "office_id"),
        ("submitted", "submitted_at"), ("due", "due_at"), ("executor", "executor"),
        ("inspection", "inspection_date"), ("result", "result_collection"),
    ):  # fmt: skip
        if view.get(column) is not None:
            lines.append(f"  {label}: {_plain(view[column])}")
    if view.get("decision_outcome"):
        grounds = ", ".join(g["id"] for g in view.get("decision_grounds") or []) or "-"
        lines.append(
            f"  decision: {view['decision_outcome']} at {_plain(view['decided_at'])} (grounds: {grounds})"
        )
    for complaint, entry in (view.get("complaints") or {}).items():
        lines.append(f"  complaint {complaint}: {entry.get('outcome') or 'under review'}")
    for notification, entry in (view.get("notifications") or {}).items():
        told = f"{entry.get('kind')} by {entry.get('channel')}: {entry.get('state')}"
        lines.append(f"  notification {notification}: {told}")
    lines.append("  history:")
    for step in view["history"]:
        at, actor = _plain(step["recorded_at"]), step["actor"] or "-"
        lines.append(f"    {at} {step['event_type']} by {actor} -> {step['status']}")
    return "\n".join(lines)


async def _show(
    spec: ProjectionSpec, database_url: str, application: str, moment: datetime
) -> dict[str, Any] | None:
    from shared.db.pool import create_pool

    assert spec.as_of is not None
    pool = await create_pool(database_url, min_size=1, max_size=2)
    try:
        return await spec.as_of(pool, spec.schema(), application, moment)
    finally:
        await pool.close()


def _status_command(args: argparse.Namespace) -> int:
    import asyncio

    from shared.settings import PlatformSettings

    try:
        uuid.UUID(args.application)
    except ValueError:
        print(f"qyzmet status: {args.application!r} is not an application id", file=sys.stderr)
        return 2
    spec = _status_projection()
    if spec is None:
        print("qyzmet status: no installed service keeps application status views", file=sys.stderr)
        return 2
    database_url = checked_database_url(PlatformSettings())
    if database_url is None:
        return 2
    moment = args.as_of or datetime.now(UTC)
    view = asyncio.run(_show(spec, database_url, args.application, moment))
    if view is None:
        print(f"qyzmet status: application {args.application} had not been submitted by {moment.isoformat()}")
        return 1
    view = {k: v for k, v in view.items() if k not in HIDDEN}
    print(
        json.dumps(view, default=_plain, ensure_ascii=False, indent=2) if args.json else render(view, moment)
    )
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("status", help="an application as it stood at a moment (--as-of)")
    parser.add_argument("application", help="the application id")
    parser.add_argument("--as-of", dest="as_of", type=_moment, help="ISO 8601 moment (default: now)")
    parser.add_argument("--json", action="store_true", help="JSON instead of text")
    parser.set_defaults(handler=_status_command)
