"""The quality report as CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from typing import Any

from shared.quality.report import QualityReport, ReportRow

CSV_COLUMNS = (
    "service",
    "office",
    "period",
    "indicator_id",
    "name",
    "numerator",
    "denominator",
    "value",
    "target",
    "target_source",
    "target_suspect",
    "meets_target",
    "note",
)
NOT_COMPUTABLE_NOTE = "not computable from the log: "


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _row_json(row: ReportRow) -> dict[str, Any]:
    return {
        "service": row.service,
        "office": row.office,
        "period": row.period,
        "period_start": row.period_start.isoformat(),
        "period_end": row.period_end.isoformat(),
        "indicator_id": row.indicator_id,
        "name": row.name,
        "numerator": row.numerator,
        "denominator": row.denominator,
        "value": _number(row.value),
        "target": _number(row.target),
        "target_source": row.target_source,
        "target_suspect": row.target_suspect,
        "better": row.better,
        "meets_target": row.meets_target,
        "note": row.note,
    }


def to_json(report: QualityReport) -> str:
    """Values and targets are percentages (numbers); null where there is none."""
    document = {
        "from": report.start.isoformat(),
        "to": report.end.isoformat(),
        "office": report.office,
        "service": report.service,
        "per": report.split,
        "sources": list(report.sources),
        "rows": [_row_json(r) for r in report.rows],
        "not_computable": [
            {"indicator_id": n.indicator_id, "name": n.name, "reason": n.reason, "services": list(n.services)}
            for n in report.not_computable
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def to_csv(report: QualityReport) -> str:
    """One line per service, office, period and computed indicator; then one line per service and
    indicator the log cannot give (office, period and figures empty, the reason in `note`)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in report.rows:
        writer.writerow(
            [
                row.service, row.office, row.period, row.indicator_id, row.name, row.numerator,
                row.denominator, _text(row.value), _text(row.target), row.target_source,
                _text(row.target_suspect), _text(row.meets_target), _text(row.note),
            ]
        )  # fmt: skip
    for missing in report.not_computable:
        for service in missing.services:
            writer.writerow(
                [service, "", "", missing.indicator_id, missing.name, "", "", "", "", "", "", "",
                 NOT_COMPUTABLE_NOTE + missing.reason]
            )  # fmt: skip
    return out.getvalue()
