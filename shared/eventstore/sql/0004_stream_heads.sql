-- Appends whose every check uses an index under any plan (issue 14).
--
-- A prepared statement switches to a generic plan after five executions. Planned while the events
-- table was small, a lookup such as `stream_id = $1` or `event_id = ANY($3)` becomes a sequential
-- scan and stays one while the table grows: every append then reads the whole log. So:
--   * the version of each stream lives in `streams`, one row per stream, and an append takes it with
--     INSERT ... ON CONFLICT (stream_id) DO UPDATE: the conflict check is an index probe made by the
--     executor, not a plan, and the row lock orders concurrent writers of one stream;
--   * the lookups that remain are functions that plan their one query with sequential scans off, so
--     whatever plan the caller's statement has, theirs is an index scan.

CREATE TABLE IF NOT EXISTS {schema}.streams (
    stream_id   text    PRIMARY KEY,
    version     integer NOT NULL CHECK (version >= 0),
    -- the transaction that last appended: an older one must not append after it (readers order by txid)
    txid        xid8    NOT NULL
);

INSERT INTO {schema}.streams (stream_id, version, txid)
SELECT stream_id, max(version), max(txid) FROM {schema}.events GROUP BY stream_id
ON CONFLICT (stream_id) DO NOTHING;

-- VOLATILE: each call takes a fresh snapshot, so after waiting for a stream's row lock an append sees
-- the events the writer it waited for committed.
CREATE OR REPLACE FUNCTION {schema}.stored_event_count(ids uuid[]) RETURNS integer
LANGUAGE plpgsql VOLATILE SET enable_seqscan = off AS $$
BEGIN
    RETURN (SELECT count(*) FROM {schema}.events WHERE event_id = ANY(ids));
END;
$$;

CREATE OR REPLACE FUNCTION {schema}.stream_version(stream text) RETURNS integer
LANGUAGE plpgsql VOLATILE SET enable_seqscan = off AS $$
BEGIN
    RETURN coalesce((SELECT version FROM {schema}.streams WHERE stream_id = stream), 0);
END;
$$;

CREATE OR REPLACE FUNCTION {schema}.stream_events(stream text, after_version integer)
RETURNS SETOF {schema}.events
LANGUAGE plpgsql STABLE SET enable_seqscan = off AS $$
BEGIN
    RETURN QUERY SELECT * FROM {schema}.events e
        WHERE e.stream_id = stream AND e.version > after_version ORDER BY e.version;
END;
$$;

-- The gap-safe page: after the cursor, below every running transaction, in (txid, position) order.
CREATE OR REPLACE FUNCTION {schema}.committed_events(after_txid xid8, after_position bigint, page integer)
RETURNS SETOF {schema}.events
LANGUAGE plpgsql STABLE SET enable_seqscan = off AS $$
BEGIN
    RETURN QUERY SELECT * FROM {schema}.events e
        WHERE (e.txid, e.position) > (after_txid, after_position)
          AND e.txid < pg_snapshot_xmin(pg_current_snapshot())
        ORDER BY e.txid, e.position LIMIT page;
END;
$$;
