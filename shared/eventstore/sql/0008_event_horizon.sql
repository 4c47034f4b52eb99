-- The gap-safe read waits only for transactions that could still write this schema's events
-- (issue 14, latency).
--
-- A reader takes the events below the oldest transaction that may yet commit one with a lower
-- transaction id. That was the oldest transaction of the whole cluster (pg_snapshot_xmin): each
-- service's outbox relay waited for every other service's open transactions, and for other
-- databases' (a test run beside `make run`); under load every relay hop took hundreds of ms.
--
-- `event_horizon()` is the oldest transaction running at the caller's snapshot, leaving out those
-- whose backend is known not to be able to write these events: a backend of another database, or
-- one whose login is no member (inherited or not: SET ROLE counts) of the table's owner nor of a
-- role granted INSERT on it, and lacks INSERT itself. A transaction whose backend cannot be told
-- (it ended since the snapshot, a prepared transaction, a background process) still counts.
-- Skipping a transaction that cannot write here is safe: it has no event to be read later.
-- Events below the horizon whose transactions are committed are all in the caller's snapshot
-- (the horizon is that snapshot's), so a later read cannot find one behind its cursor.
-- plpgsql: its query is planned once a session (a SQL function's on every call, 6x the cost).
CREATE OR REPLACE FUNCTION {schema}.event_horizon() RETURNS xid8
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (WITH snap AS (SELECT pg_current_snapshot() AS s),
    writers AS (
        SELECT c.relowner AS role FROM pg_class c WHERE c.oid = '{schema}.events'::regclass
        UNION
        SELECT a.grantee FROM pg_class c, aclexplode(c.relacl) a
        WHERE c.oid = '{schema}.events'::regclass AND a.privilege_type = 'INSERT'
    ),
    elsewhere AS (
        SELECT b.backend_xid AS x FROM pg_stat_get_activity(NULL) b
        WHERE b.backend_xid IS NOT NULL AND b.datid IS NOT NULL AND b.usesysid IS NOT NULL
          AND (b.datid <> (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
               OR (NOT has_table_privilege(b.usesysid, '{schema}.events'::regclass, 'INSERT')
                   AND NOT EXISTS (SELECT 1 FROM writers w
                                   WHERE w.role = 0 OR pg_has_role(b.usesysid, w.role, 'MEMBER'))))
    )
    SELECT coalesce(
        (SELECT min(r.x) FROM snap, pg_snapshot_xip(snap.s) AS r(x)
         WHERE NOT EXISTS (SELECT 1 FROM elsewhere e WHERE e.x = xid(r.x))),
        (SELECT pg_snapshot_xmax(snap.s) FROM snap)));
END;
$$;

-- The gap-safe page: after the cursor, below the horizon, in (txid, position) order.
CREATE OR REPLACE FUNCTION {schema}.committed_events(after_txid xid8, after_position bigint, page integer)
RETURNS SETOF {schema}.events
LANGUAGE plpgsql STABLE SET enable_seqscan = off AS $$
DECLARE
    horizon xid8 := {schema}.event_horizon();
BEGIN
    RETURN QUERY SELECT * FROM {schema}.events e
        WHERE (e.txid, e.position) > (after_txid, after_position) AND e.txid < horizon
        ORDER BY e.txid, e.position LIMIT page;
END;
$$;
