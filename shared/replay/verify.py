"""Compare a rebuilt projection with the live one, key by key.

Rows are compared as JSON (`to_jsonb`) without the columns that cannot agree (written from the
clock; or, after a replay from Kafka, the service's own bookkeeping). Rows of a key whose key
columns are not all compared (a history keyed by stream version, after a Kafka replay) are
compared as a sorted list per remaining key. Differences name the key and the columns, never
the values: the rows may hold personal data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from shared.db.identifiers import checked_identifier
from shared.replay.spec import TableSpec


@dataclass(frozen=True)
class Difference:
    table: str
    key: dict[str, Any]
    what: str
    """"missing from the rebuilt projection", "only in the rebuilt projection", or the columns."""

    def __str__(self) -> str:
        key = ", ".join(f"{k}={v}" for k, v in self.key.items())
        return f"{self.table} [{key}]: {self.what}"


@dataclass(frozen=True)
class TableComparison:
    table: str
    compared: int
    """Keys compared (live and rebuilt together)."""
    differing: int
    shown: tuple[Difference, ...]


def _what(live: list[dict[str, Any]] | None, rebuilt: list[dict[str, Any]] | None) -> str:
    if not rebuilt:
        return "missing from the rebuilt projection"
    if not live:
        return "only in the rebuilt projection"
    if len(live) != len(rebuilt):
        return f"{len(live)} live rows, {len(rebuilt)} rebuilt"
    columns = sorted(
        {c for a, b in zip(live, rebuilt, strict=True) for c in {*a, *b} if a.get(c) != b.get(c)}
    )
    return "differs in " + ", ".join(columns)


async def compare_table(
    conn: asyncpg.Connection,
    live_schema: str,
    rebuilt_schema: str,
    table: TableSpec,
    *,
    ignore: Sequence[str] = (),
    streams: Sequence[str] | None = None,
    show: int = 50,
) -> TableComparison:
    ignored = sorted({*table.volatile, *ignore})
    key = [checked_identifier(c) for c in table.key if c not in ignored]
    if not key:
        raise ValueError(f"{table.name}: every key column is ignored")
    name = checked_identifier(table.name)
    where = f" WHERE ({table.stream}) = ANY($2::text[])" if streams is not None else ""
    keys = ", ".join(key)

    def side(schema: str) -> str:
        row = "(to_jsonb(t) - $1::text[])"
        return (
            f"SELECT {keys}, jsonb_agg({row} ORDER BY {row}) AS rows"
            f" FROM {checked_identifier(schema)}.{name} t{where} GROUP BY {keys}"
        )

    joined = " AND ".join(f"l.{c} = r.{c}" for c in key)
    picked = ", ".join(f"coalesce(l.{c}, r.{c}) AS {c}" for c in key)
    args: list[Any] = [ignored] + ([list(streams)] if streams is not None else [])
    base = f"WITH l AS ({side(live_schema)}), r AS ({side(rebuilt_schema)})"
    compared: int = await conn.fetchval(f"{base} SELECT count(*) FROM l FULL JOIN r ON {joined}", *args)
    rows = await conn.fetch(
        f"{base} SELECT {picked}, l.rows AS live, r.rows AS rebuilt, count(*) OVER () AS differing"
        f" FROM l FULL JOIN r ON {joined} WHERE l.rows IS DISTINCT FROM r.rows"
        f" ORDER BY {', '.join(f'coalesce(l.{c}, r.{c})' for c in key)} LIMIT {int(show)}",
        *args,
    )
    shown = tuple(
        Difference(table.name, {c: row[c] for c in key}, _what(row["live"], row["rebuilt"])) for row in rows
    )
    return TableComparison(table.name, compared, rows[0]["differing"] if rows else 0, shown)
