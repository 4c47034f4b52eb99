"""The quality report as one self-contained HTML page: inline CSS and SVG bar charts (value and
target per office and period, one chart per service and indicator), no script, nothing fetched."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from html import escape

from shared.quality.render import NOT_COMPUTABLE_NOTE
from shared.quality.report import QualityReport, ReportRow

_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5rem;color:#1d2733}
h1{font-size:1.4rem}h2{font-size:1.15rem;margin-top:2rem}h3{font-size:1rem;margin-bottom:.3rem}
table{border-collapse:collapse;margin:.5rem 0 1rem}td,th{border:1px solid #c9d1d9;padding:.2rem .5rem;
font-size:.85rem;text-align:left}td.n{text-align:right}.met{color:#1a7f37}.missed{color:#cf222e}
.meta{color:#57606a;font-size:.85rem}svg text{font-size:11px;fill:#1d2733}
"""
_BAR_H, _GAP, _CHART_W = 18, 6, 360
_CHAR_W = 6.6
"""Width of a label character at 11 px (a generous average, so labels never run into the bars)."""


def _fmt(value: Decimal | None) -> str:
    return "—" if value is None else f"{value}%"


def _scale(rows: list[ReportRow]) -> Decimal:
    """100 % for shares that should be high; for "lower is better" shares (justified complaints,
    tenths of a percent) the largest value or target, so the bars stay visible."""
    if rows[0].better == "higher":
        return Decimal(100)
    top = max([r.value or Decimal(0) for r in rows] + [r.target or Decimal(0) for r in rows])
    return max(top * Decimal("1.25"), Decimal("0.5"))


def chart(rows: list[ReportRow]) -> str:
    """Horizontal bars of each office/period's value, a dark tick at its target."""
    scale = _scale(rows)
    labels = [f"{row.office} · {row.period}" for row in rows]
    label_w = int(max(len(label) for label in labels) * _CHAR_W) + 10
    height = len(rows) * (_BAR_H + _GAP) + _GAP
    width = label_w + _CHART_W + 70
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}"'
        f' viewBox="0 0 {width} {height}"><title>{escape(rows[0].indicator_id)}: value and target</title>'
    ]
    for index, (row, label) in enumerate(zip(rows, labels, strict=True)):
        y = _GAP + index * (_BAR_H + _GAP)
        parts.append(f'<text x="0" y="{y + 13}">{escape(label)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y}" width="{_CHART_W}" height="{_BAR_H}" fill="#eef1f4"/>')
        if row.value is not None:
            bar = float(min(row.value, scale) / scale) * _CHART_W
            colour = {True: "#2da44e", False: "#cf222e", None: "#6e7781"}[row.meets_target]
            parts.append(
                f'<rect class="value" x="{label_w}" y="{y}" width="{bar:.1f}" height="{_BAR_H}"'
                f' fill="{colour}"><title>{escape(_fmt(row.value))}</title></rect>'
            )
        if row.target is not None:
            x = label_w + float(min(row.target, scale) / scale) * _CHART_W
            parts.append(
                f'<line class="target" x1="{x:.1f}" x2="{x:.1f}" y1="{y - 2}" y2="{y + _BAR_H + 2}"'
                f' stroke="#1d2733" stroke-width="3"><title>target {escape(_fmt(row.target))}</title></line>'
            )
        parts.append(f'<text x="{label_w + _CHART_W + 6}" y="{y + 13}">{escape(_fmt(row.value))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _table(rows: list[ReportRow]) -> str:
    head = "<tr><th>office</th><th>period</th><th>numerator</th><th>denominator</th><th>value</th>"
    head += "<th>target</th><th>target source</th><th>note</th></tr>"
    body = []
    for r in rows:
        state = {True: "met", False: "missed", None: ""}[r.meets_target]
        suspect = " (suspect)" if r.target_suspect else ""
        body.append(
            f"<tr><td>{escape(r.office)}</td><td>{escape(r.period)}</td><td class=n>{r.numerator}</td>"
            f"<td class=n>{r.denominator}</td><td class='n {state}'>{escape(_fmt(r.value))}</td>"
            f"<td class=n>{escape(_fmt(r.target))}</td><td>{escape(r.target_source + suspect)}</td>"
            f"<td>{escape(r.note or '')}</td></tr>"
        )
    return f"<table>{head}{''.join(body)}</table>"


def to_html(report: QualityReport) -> str:
    by_service: dict[str, dict[str, list[ReportRow]]] = defaultdict(lambda: defaultdict(list))
    for row in report.rows:
        by_service[row.service][row.indicator_id].append(row)
    scope = f"office {report.office}" if report.office else "all offices"
    if report.service:
        scope += f", service {report.service}"
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Quality indicators {report.start}..{report.end}</title><style>{_STYLE}</style></head><body>",
        f"<h1>Quality indicators, {report.start} to {report.end}</h1>",
        f"<p class=meta>{escape(scope)}; periods: {escape(report.split)}; read from:"
        f" {escape(', '.join(report.sources))}. Values are shares in percent; the dark tick is the"
        " target; green meets it, red misses it, grey has no target.</p>",
    ]
    if not report.rows:
        parts.append("<p>No application, decision or complaint in the period.</p>")
    for service, indicators in sorted(by_service.items()):
        parts.append(f"<h2>{escape(service)}</h2>")
        for indicator_id, rows in indicators.items():
            better = "lower is better" if rows[0].better == "lower" else "higher is better"
            parts.append(f"<h3>{escape(rows[0].name)} <code>{escape(indicator_id)}</code> ({better})</h3>")
            parts.append(chart(rows))
            parts.append(_table(rows))
    if report.not_computable:
        parts.append("<h2>Not computable from the log</h2><table><tr><th>indicator</th><th>why</th>")
        parts.append("<th>services</th></tr>")
        for missing in report.not_computable:
            parts.append(
                f"<tr><td><code>{escape(missing.indicator_id)}</code> {escape(missing.name)}</td>"
                f"<td>{escape(NOT_COMPUTABLE_NOTE + missing.reason)}</td>"
                f"<td>{escape(', '.join(missing.services))}</td></tr>"
            )
        parts.append("</table>")
    parts.append("</body></html>\n")
    return "".join(parts)
