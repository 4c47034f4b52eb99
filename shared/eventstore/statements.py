"""The SQL of the PostgreSQL event store, for one service schema.

No statement here may scan the events table whatever plan PostgreSQL caches for it (issue 14):
a prepared statement runs on a generic plan after five executions, and one chosen while the table
was small reads every row once it is large. Appends find and lock their stream's row in
`streams` through INSERT ... ON CONFLICT (an index probe the executor makes, not a plan choice)
and insert their events with no lookup of their own (the unique indexes guard them); the lookups
that remain go through the functions of migration 0004, which plan their one query with
sequential scans off (the global read's page among them: on a small table even ORDER BY ...
LIMIT is planned as a scan and a sort).
"""

from __future__ import annotations

from dataclasses import dataclass

# In the order of `StoredEvent`'s fields: the store builds events from rows by position.
COLUMNS = (
    "e.position, e.txid::text::bigint AS txid, e.stream_id, e.version, e.event_id, e.event_type,"
    " e.schema_version, e.data, e.metadata, e.recorded_at"
)

# In the order of `EventPayload`'s fields.
PAYLOAD_COLUMNS = (
    "e.position, e.txid::text::bigint AS txid, e.stream_id, e.version, e.event_type, e.schema_version, e.data"
)

_EVENT_COLUMNS = "(stream_id, version, event_id, event_type, schema_version, data, metadata)"
# Payloads travel as arrays of JSON text (the store encodes them) and become jsonb in the server:
# one orjson call per payload instead of a driver codec round per array element.


@dataclass(frozen=True)
class Statements:
    append: str
    append_audited: str
    append_batch: str
    append_batch_heads: str
    refusal: str
    stream_version: str
    stream_versions: str
    load: str
    read_committed: str
    read_payloads: str
    read_for_publishing: str


def statements(schema: str) -> Statements:
    """The statements for `schema` (an identifier checked by the caller)."""
    events, streams = f"{schema}.events", f"{schema}.streams"
    # the gap-safe page after the cursor ($1 txid as text, $2 position, $3 page size)
    committed = f"{schema}.committed_events($1::text::xid8, $2, $3)"
    # One statement, one round trip, no savepoint: take the stream's row (creating it at version 0
    # or `n`) and move it on by n only if it is at the expected version ($2; NULL = any), no newer
    # transaction wrote the stream (readers order by txid: an older transaction's events would
    # overtake the newer ones) and none of the event ids is stored. A concurrent writer of the
    # stream holds the row lock; after it commits the check sees its version and refuses. Any
    # refusal inserts nothing and raises nothing, so the caller's transaction goes on.
    append_head = (
        f"head AS (INSERT INTO {streams} AS h (stream_id, version, txid)"
        " SELECT $1, CASE WHEN coalesce($2::int, 0) = 0 THEN cardinality($3::uuid[]) ELSE 0 END,"
        " CASE WHEN coalesce($2::int, 0) = 0 THEN pg_current_xact_id() ELSE '0'::xid8 END"
        " ON CONFLICT (stream_id) DO UPDATE"
        " SET version = h.version + cardinality($3::uuid[]), txid = pg_current_xact_id()"
        " WHERE h.version = coalesce($2::int, h.version) AND h.txid <= pg_current_xact_id()"
        f" AND {schema}.stored_event_count($3::uuid[]) = 0"
        " RETURNING h.version - cardinality($3::uuid[]) AS base)"
    )
    append_insert = (
        f"INSERT INTO {events} {_EVENT_COLUMNS}"
        " SELECT $1, head.base + u.ord, u.event_id, u.event_type, u.schema_version, u.data::jsonb,"
        " u.metadata::jsonb"
        " FROM head, unnest($3::uuid[], $4::text[], $5::int[], $6::text[], $7::text[])"
        " WITH ORDINALITY AS u(event_id, event_type, schema_version, data, metadata, ord)"
        # a new stream whose caller expected a later version got a version-0 row and base < 0
        " WHERE head.base >= 0 AND head.base = coalesce($2::int, head.base)"
        " RETURNING version"
    )
    append = f"WITH {append_head} {append_insert}"
    # The same append and the action's audit record in one round trip ($8.. audit_append's
    # arguments, `shared.audit.log`): audit_append runs only if the events went in (a one-time
    # filter on the appended rows gates it: a refused append neither records nor waits for the
    # chain's lock). One row: the stream's version after the append (NULL: nothing appended) and,
    # where audit_append ran but did not insert (the chain's head had moved), that head.
    append_audited = (
        f"WITH {append_head}, appended AS ({append_insert})"
        " SELECT (SELECT max(version) FROM appended) AS version,"
        " a.head_seq, a.head_hash, a.head_recorded_at"
        f" FROM (SELECT 1) AS one LEFT JOIN LATERAL (SELECT * FROM {schema}.audit_append("
        "$8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)"
        " WHERE EXISTS (SELECT 1 FROM appended)) AS a ON true"
    )
    # Many streams at their current versions: $1/$2 one entry per distinct stream (its event count),
    # $3.. one per event with its place within its stream and its stream's count. A stream a newer
    # transaction wrote is refused: its events get no version and the NOT NULL constraint fails the
    # whole statement, so the batch is all or nothing without a transaction of its own.
    head_many = (
        f"head AS (INSERT INTO {streams} AS h (stream_id, version, txid)"
        " SELECT b.stream_id, b.n, pg_current_xact_id() FROM unnest($1::text[], $2::int[]) AS b(stream_id, n)"
        " ON CONFLICT (stream_id) DO UPDATE"
        " SET version = h.version + excluded.version, txid = pg_current_xact_id()"
        " WHERE h.txid <= pg_current_xact_id()"
        " RETURNING h.stream_id, h.version)"
    )
    insert_many = (
        f"INSERT INTO {events} {_EVENT_COLUMNS}"
        " SELECT u.stream_id, head.version - u.n + u.ord, u.event_id, u.event_type, u.schema_version,"
        " u.data::jsonb, u.metadata::jsonb"
        " FROM unnest($3::text[], $4::int[], $5::int[], $6::uuid[], $7::text[], $8::int[], $9::text[],"
        " $10::text[]) AS u(stream_id, ord, n, event_id, event_type, schema_version, data, metadata)"
        " LEFT JOIN head ON head.stream_id = u.stream_id"
    )
    append_batch = f"WITH {head_many} {insert_many}"
    # The same, answering each stream's version after it (the events' insert runs as a CTE of its
    # own: PostgreSQL runs a data-modifying WITH once whether or not the query reads it).
    append_batch_heads = f"WITH {head_many}, appended AS ({insert_many}) SELECT stream_id, version FROM head"
    return Statements(
        append=append,
        append_audited=append_audited,
        append_batch=append_batch,
        append_batch_heads=append_batch_heads,
        refusal=(
            f"SELECT {schema}.stored_event_count($1::uuid[]) AS stored,"
            f" {schema}.stream_version($2) AS version"
        ),
        stream_version=f"SELECT {schema}.stream_version($1)",
        # each head through the function: a join of `streams` is planned as a scan while it is small
        stream_versions=(
            f"SELECT u.stream_id, {schema}.stream_version(u.stream_id) AS version"
            " FROM unnest($1::text[]) AS u(stream_id)"
        ),
        load=f"SELECT {COLUMNS} FROM {schema}.stream_events($1, $2) e",
        read_committed=f"SELECT {COLUMNS} FROM {committed} e",
        read_payloads=f"SELECT {PAYLOAD_COLUMNS} FROM {committed} e",
        # The relay forwards bytes: the data stays JSON text and metadata comes as columns.
        read_for_publishing=(
            "SELECT e.position, e.txid::text::bigint AS txid, e.stream_id, e.event_id, e.event_type,"
            " e.schema_version, e.data::text AS data_json, e.recorded_at,"
            " e.metadata->>'correlation_id' AS correlation_id, e.metadata->>'causation_id' AS causation_id,"
            " e.metadata->>'actor' AS actor, e.metadata->>'office' AS office,"
            f" e.metadata->>'region' AS region FROM {committed} e"
        ),
    )
