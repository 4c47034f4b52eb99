"""One result row of `make bench`: a figure beside its baseline from the same run, their ratio
and, when the benchmark has one, the ratio it must reach."""

from __future__ import annotations

from typing import Any

Row = dict[str, Any]


def ratio_row(
    name: str, value: float, baseline: float, unit: str, target: float | None = None, **extra: Any
) -> Row:
    """`value` against `baseline` (ratio 0 when the baseline measured nothing); `meets_target`
    is None when there is no target."""
    ratio = value / baseline if baseline else 0.0
    return {
        "name": name,
        "value": round(value, 1),
        "baseline": round(baseline, 1),
        "unit": unit,
        "ratio": round(ratio, 3),
        "target_ratio": target,
        "meets_target": None if target is None else ratio >= target,
        **extra,
    }
