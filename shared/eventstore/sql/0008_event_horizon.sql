-- The gap-safe read waits only for transactions that could still write this schema's events
-- (issue 14, latency).
--
-- A reader takes the events below the oldest transaction that may yet commit one with a lower
-- transaction id. That was the oldest transaction of the whole cluster (pg_snapshot_xmin): each
-- service's outbox relay waited for every other service's open transactions, and for other
-- databases' (a test run beside `make run`); under load every relay hop took hundreds of ms.
--
-- `event_horizon()` is the oldest transaction running at the caller's snapshot (the caller's own
-- included), leaving out only those whose backend is positively unable to write these events:
--   * a backend of another database, or
--   * a login that holds no lock on the events table (a transaction that has inserted events holds
--     one until it ends, whatever was granted or revoked since) and that, as things stand, has no
--     INSERT on the table nor on a column of it, is no member (inherited or not: SET ROLE counts)
--     of its owner, of a role granted INSERT on it, of a superuser role or of pg_write_all_data,
--     and is no superuser.
-- A transaction whose backend cannot be told (it ended since the snapshot, a prepared transaction,
-- a background process) still counts. Skipping a transaction that cannot write here is safe: it
-- has no event to be read later. Events below the horizon whose transactions are committed are
-- all in the caller's snapshot (the horizon is that snapshot's), so a later read cannot find one
-- behind its cursor.
-- What this relies on (tests/platform/test_event_horizon.py): nothing lets a login that may not
-- insert events insert them on its behalf (no SECURITY DEFINER function, rule or trigger owned by
-- a writer writes events; the schema's only SECURITY DEFINER function, audit_append, writes the
-- audit log), and INSERT on a schema's events (or membership in a role that has it) is granted to
-- a login while none of its transactions is open, as `qyzmet db setup` does.
-- Its catalog and activity queries are planned as they should be (sequential scans on), also when
-- the caller plans with them off (committed_events): planned so, one call took 260 ms.
CREATE OR REPLACE FUNCTION {schema}.event_horizon() RETURNS xid8
LANGUAGE plpgsql STABLE SET enable_seqscan = on AS $$
DECLARE
    snap pg_snapshot := pg_current_snapshot();
    here oid := (SELECT d.oid FROM pg_database d WHERE d.datname = current_database());
    horizon xid8;
BEGIN
    WITH writers AS (
        SELECT c.relowner AS role FROM pg_class c WHERE c.oid = '{schema}.events'::regclass
        UNION
        SELECT a.grantee FROM pg_class c, aclexplode(c.relacl) a
        WHERE c.oid = '{schema}.events'::regclass AND a.privilege_type = 'INSERT'
        UNION
        SELECT r.oid FROM pg_roles r WHERE r.rolsuper OR r.rolname = 'pg_write_all_data'
    ),
    cannot_write AS (
        SELECT b.pid, b.backend_xid AS x, b.datid FROM pg_stat_get_activity(NULL) b
        WHERE b.backend_xid IS NOT NULL AND b.datid IS NOT NULL AND b.usesysid IS NOT NULL
          AND (b.datid <> here
               OR (NOT has_table_privilege(b.usesysid, '{schema}.events'::regclass, 'INSERT')
                   AND NOT has_any_column_privilege(b.usesysid, '{schema}.events'::regclass, 'INSERT')
                   AND NOT EXISTS (SELECT 1 FROM writers w
                                   WHERE w.role = 0 OR pg_has_role(b.usesysid, w.role, 'MEMBER'))))
    ),
    elsewhere AS (
        SELECT n.x FROM cannot_write n
        WHERE n.datid <> here
           OR NOT EXISTS (SELECT 1 FROM pg_locks l
                          WHERE l.pid = n.pid AND l.database = here
                            AND l.relation = '{schema}.events'::regclass)
    )
    SELECT min(r.x) INTO horizon FROM pg_snapshot_xip(snap) AS r(x)
    WHERE NOT EXISTS (SELECT 1 FROM elsewhere e WHERE e.x = xid(r.x));
    -- the caller's own transaction is not in its snapshot's list, and its events are not committed
    RETURN least(coalesce(horizon, pg_snapshot_xmax(snap)), pg_current_xact_id_if_assigned());
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
