"""The overview page's content, from what the services answered (pure: no IO).

Quality indicators against targets: "served within the set term" from intake's decided-in-term
counts, the two complaint indicators from the complaints service's figures; targets from the
catalog through `shared.quality.targets.TargetBook` (the seed's normative values — values an
administrator recorded live in the database, which the console does not read: `qyzmet report
quality` shows them)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from markupsafe import Markup

from services.console.charts import percent_bars, stacked_bars
from services.console.sources import Answer, Unavailable
from shared.quality.targets import TargetBook

STATUS_ORDER = (
    "submitted",
    "under_review",
    "inspection_scheduled",
    "inspection_completed",
    "awaiting_signature",
    "reopened",
    "decided",
    "entitlement_active",
    "entitlement_suspended",
    "entitlement_terminated",
    "withdrawn",
    "rejected",
)


@dataclass
class Indicator:
    label: str
    value: float | None
    target: float | None
    basis: str
    """How many cases the value rests on, and where the target comes from."""
    ceiling: bool = False
    """The target is an upper bound (justified complaints)."""


@dataclass
class Overview:
    by_status: Markup | None = None
    offices: list[dict[str, Any]] = field(default_factory=list)
    recent_decisions: list[dict[str, Any]] = field(default_factory=list)
    latest: list[dict[str, Any]] = field(default_factory=list)
    queue: list[dict[str, Any]] = field(default_factory=list)
    indicators: list[Indicator] = field(default_factory=list)
    quality_chart: Markup | None = None
    missing: dict[str, str] = field(default_factory=dict)
    """part of the page -> why it is missing."""


def _ok(answer: Answer, part: str, missing: dict[str, str]) -> Any:
    if isinstance(answer, Unavailable):
        missing[part] = answer.reason
        return None
    return answer


def status_rows(by_status: Sequence[Mapping[str, Any]]) -> tuple[list[tuple[str, dict[str, int]]], list[str]]:
    rows: dict[str, dict[str, int]] = {}
    for r in by_status:
        rows.setdefault(str(r["service_id"]), {})[str(r["status"])] = int(r["count"])
    seen = {status for parts in rows.values() for status in parts}
    order = [s for s in STATUS_ORDER if s in seen] + sorted(seen - set(STATUS_ORDER))
    ranked = sorted(rows.items(), key=lambda item: (-sum(item[1].values()), item[0]))
    return ranked, order


def _percent(part: int, whole: int) -> float | None:
    return None if whole == 0 else 100.0 * part / whole


def _target(
    targets: TargetBook, indicator: str, services: Sequence[str], on: date
) -> tuple[float | None, str]:
    """The one target the services share (the console shows one row per indicator)."""
    found = {targets.target(indicator, s, (), (), on) for s in services}
    values = {t.value for t in found}
    if len(values) == 1 and (value := next(iter(values))) is not None:
        sources = "; ".join(sorted({t.source for t in found}))
        doubts = sorted({t.note or "suspect" for t in found if t.suspect})
        suspect = f" — the seed's value is suspect: {'; '.join(doubts)}" if doubts else ""
        return float(Decimal(value)), f"target: {sources}{suspect}"
    if not services:
        return None, "no services yet"
    if values == {None}:
        return None, "no target: " + sorted({t.source for t in found})[0]
    return None, "no single target: the services' targets differ"


def quality(
    summary: Mapping[str, Any] | None, figures: Mapping[str, Any] | None, targets: TargetBook, on: date
) -> list[Indicator]:
    indicators: list[Indicator] = []
    if summary is not None:
        rows = summary["decided_in_term"]
        decided = sum(int(r["decided"]) for r in rows)
        in_term = sum(int(r["decided_in_term"]) for r in rows)
        target, source = _target(targets, "on_time", [r["service_id"] for r in rows], on)
        indicators.append(
            Indicator(
                "Served within the set term",
                _percent(in_term, decided),
                target,
                f"{in_term} of {decided} decisions; {source}",
            )
        )
        if len(rows) > 1:  # each service against its own edition's target
            for r in rows:
                one, why = _target(targets, "on_time", [r["service_id"]], on)
                indicators.append(
                    Indicator(
                        f"in term: {r['service_id']}",
                        _percent(int(r["decided_in_term"]), int(r["decided"])),
                        one,
                        f"{r['decided_in_term']} of {r['decided']} decisions; {why}",
                    )
                )
    if figures is not None:
        services = [s["service_id"] for s in (summary or {}).get("decided_in_term", [])]
        share = figures.get("justified_complaints_share")
        target, source = _target(targets, "justified_complaints_share", services, on)
        counted = f"{figures['justified_complaints']} of {figures['applicants_served']} applicants"
        indicators.append(
            Indicator(
                "Justified complaints per applicants served",
                None if share is None else float(share),
                target,
                f"{counted}; {source} (a ceiling)",
                ceiling=True,
            )
        )
        resolved = figures.get("justified_complaints_resolved_in_term")
        target, source = _target(targets, "justified_complaints_resolved_in_term", services, on)
        counted = f"{figures['justified_complaints_in_term']} of {figures['justified_complaints']}"
        indicators.append(
            Indicator(
                "Justified complaints answered in term",
                None if resolved is None else float(resolved),
                target,
                f"{counted}; {source}",
            )
        )
    return indicators


def build_overview(
    summary: Answer, latest: Answer, queue: Answer, figures: Answer, targets: TargetBook, on: date
) -> Overview:
    view = Overview()
    found = _ok(summary, "applications", view.missing)
    if found is not None:
        rows, order = status_rows(found["by_status"])
        view.by_status = stacked_bars("Applications by service and status", rows, order)
        view.offices = sorted(
            found["offices"], key=lambda o: (-o["overdue"], -o["approaching"], o["office_id"])
        )
        view.recent_decisions = found["recent_decisions"]
    page = _ok(latest, "latest applications", view.missing)
    if page is not None:
        view.latest = page["items"]
    complaints = _ok(queue, "complaint queue", view.missing)
    if complaints is not None:
        view.queue = complaints["items"]
    numbers = _ok(figures, "complaint figures", view.missing)
    view.indicators = quality(found, numbers, targets, on)
    bars = [(i.label, i.value, i.target, i.ceiling) for i in view.indicators]
    view.quality_chart = percent_bars("Quality indicators against targets", bars)
    return view
