"""Charts as inline SVG drawn on the server: no script, nothing fetched from elsewhere. Every text
is escaped; colours come from the stylesheet (`.s0`…`.s7` classes), so the charts follow it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from markupsafe import Markup, escape

ROW_H = 22
LABEL_W = 230
PCT_LABEL_W = 320
"""Room for an indicator's name (longer than a service id)."""
BAR_W = 420
PALETTE = 8


def _text(x: float, y: float, text: str, css: str = "", anchor: str = "start") -> str:
    return f'<text x="{x:.0f}" y="{y:.0f}" class="{css}" text-anchor="{anchor}">{escape(text)}</text>'


def stacked_bars(title: str, rows: Sequence[tuple[str, Mapping[str, int]]], order: Sequence[str]) -> Markup:
    """One horizontal bar per row, a segment per key of `order` (e.g. applications per service,
    split by status), scaled to the largest row, with a legend."""
    largest = max((sum(parts.values()) for _, parts in rows), default=0) or 1
    legend_h = 24
    height = legend_h + ROW_H * max(1, len(rows)) + 6
    width = LABEL_W + BAR_W + 60
    out = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}"'
        f' width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    x = 0.0
    for i, key in enumerate(order):
        out.append(f'<rect x="{x:.0f}" y="4" width="12" height="12" class="s{i % PALETTE}"/>')
        out.append(_text(x + 16, 15, key, "legend"))
        x += 22 + 7.5 * len(key)
    if not rows:
        out.append(_text(0, legend_h + 15, "nothing yet", "muted"))
    for row, (label, parts) in enumerate(rows):
        y = legend_h + row * ROW_H
        out.append(_text(LABEL_W - 8, y + 15, label, "label", "end"))
        x = float(LABEL_W)
        for i, key in enumerate(order):
            count = parts.get(key, 0)
            if count:
                w = BAR_W * count / largest
                out.append(
                    f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{ROW_H - 6}"'
                    f' class="s{i % PALETTE}">'
                    f"<title>{escape(label)}: {escape(key)} {count}</title></rect>"
                )
                x += w
        out.append(_text(x + 6, y + 15, str(sum(parts.values())), "value"))
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704 -- every text in it went through escape()


def percent_bars(title: str, rows: Sequence[tuple[str, float | None, float | None, bool]]) -> Markup:
    """One bar per indicator (label, value in percent, target, whether the target is a ceiling),
    the target drawn as a mark (none where the catalog gives none); a bar that misses its target
    (below it, or above a ceiling) is drawn as such (`.below`)."""
    height = ROW_H * max(1, len(rows)) + 8
    width = PCT_LABEL_W + BAR_W + 70
    out = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}"'
        f' width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    if not rows:
        out.append(_text(0, 16, "nothing to measure yet", "muted"))
    for row, (label, value, target, ceiling) in enumerate(rows):
        y = row * ROW_H + 4
        out.append(_text(PCT_LABEL_W - 8, y + 15, label, "label", "end"))
        track = f'<rect x="{PCT_LABEL_W}" y="{y + 3}" width="{BAR_W}" height="{ROW_H - 6}" class="track"/>'
        out.append(track)
        if value is not None:
            below = target is not None and (value > target if ceiling else value < target)
            css = "below" if below else "met"
            out.append(
                f'<rect x="{PCT_LABEL_W}" y="{y + 3}" width="{BAR_W * min(value, 100) / 100:.1f}"'
                f' height="{ROW_H - 6}" class="{css}"/>'
            )
        if target is not None:
            tx = PCT_LABEL_W + BAR_W * min(target, 100) / 100
            out.append(
                f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="{y}" y2="{y + ROW_H - 1}" class="target">'
                f"<title>target {target:g}%</title></line>"
            )
        shown = "—" if value is None else f"{value:.1f}%"
        out.append(_text(PCT_LABEL_W + BAR_W + 8, y + 15, shown, "value"))
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704 -- every text in it went through escape()
