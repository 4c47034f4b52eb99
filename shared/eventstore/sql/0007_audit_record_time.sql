-- An audit record's time cannot be forged by the role that appends it. The record's MAC covers
-- recorded_at and is computed by the caller before the call, so the database cannot put its own
-- time in instead (the MAC would no longer verify): audit_append refuses, before it waits for the
-- chain, a recorded_at farther than the audit clock tolerance from the database's clock
-- (clock_timestamp(): the transaction may have begun long before), and, under the chain's lock,
-- one earlier than the chain's last record. It also answers the head's time, so an honest caller
-- whose clock is a little behind the last writer's takes the head's time instead of going back.
-- The tolerance is operational (clock skew between hosts plus a round trip), not a legal number:
-- `audit_settings.clock_tolerance`, owned by the owner; the service's role may only read it.
-- Records already in the log are left as they are.
CREATE TABLE IF NOT EXISTS {schema}.audit_settings (
    singleton       boolean  PRIMARY KEY DEFAULT true CHECK (singleton),
    clock_tolerance interval NOT NULL DEFAULT interval '10 seconds'
        CHECK (clock_tolerance >= interval '0')
);
INSERT INTO {schema}.audit_settings (singleton) VALUES (true) ON CONFLICT DO NOTHING;

-- The result gains the head's time: a new signature of the result, so drop and create (the grants
-- are made again after every migration; the function stays closed to PUBLIC).
DROP FUNCTION IF EXISTS {schema}.audit_append(text, bigint, text, timestamptz, text, text, text, text,
    text, jsonb, text, text, text, text);
CREATE FUNCTION {schema}.audit_append(
    p_chain text, p_seq bigint, p_prev text, p_recorded_at timestamptz, p_actor text, p_role text,
    p_office text, p_action text, p_subject text, p_details jsonb, p_correlation_id text,
    p_outcome text, p_alg text, p_hash text
) RETURNS TABLE (head_seq bigint, head_hash text, head_recorded_at timestamptz)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    last_seq  bigint;
    last_hash text;
    last_at   timestamptz;
    tolerance interval;
    clock     timestamptz;
BEGIN
    IF p_alg IS NULL OR p_alg = 'sha256' THEN
        RAISE EXCEPTION 'audit_append: an unkeyed record (alg %) is refused', coalesce(p_alg, 'NULL');
    END IF;
    IF p_seq IS NOT NULL THEN
        SELECT s.clock_tolerance INTO tolerance FROM {schema}.audit_settings AS s;
        clock := clock_timestamp();
        IF p_recorded_at IS NULL OR tolerance IS NULL
           OR p_recorded_at NOT BETWEEN clock - tolerance AND clock + tolerance THEN
            RAISE EXCEPTION 'audit_append: recorded_at % is not within the audit clock tolerance (%) of the database clock (%)',
                coalesce(p_recorded_at::text, 'NULL'), coalesce(tolerance::text, 'unset'), clock
                USING HINT = 'Check the clocks of the service host and the database (NTP); the tolerance is '
                             || '{schema}.audit_settings.clock_tolerance.';
        END IF;
    END IF;
    PERFORM 1 FROM {schema}.audit_chains AS c WHERE c.chain = p_chain FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO {schema}.audit_chains (chain) VALUES (p_chain) ON CONFLICT DO NOTHING;
        PERFORM 1 FROM {schema}.audit_chains AS c WHERE c.chain = p_chain FOR UPDATE;
    END IF;
    SELECT a.seq, a.hash, a.recorded_at INTO last_seq, last_hash, last_at
      FROM {schema}.audit_log AS a WHERE a.chain = p_chain ORDER BY a.seq DESC LIMIT 1;
    IF last_seq IS NULL THEN
        last_seq := 0;
        last_hash := repeat('0', 64);
    END IF;
    IF p_seq IS NULL OR p_seq <> last_seq + 1 OR p_prev IS DISTINCT FROM last_hash THEN
        RETURN QUERY SELECT last_seq, last_hash, last_at;
        RETURN;
    END IF;
    IF p_recorded_at < last_at THEN
        RAISE EXCEPTION 'audit_append: recorded_at % is earlier than the last record of chain % (seq %, %)',
            p_recorded_at, p_chain, last_seq, last_at;
    END IF;
    INSERT INTO {schema}.audit_log (chain, seq, recorded_at, actor, role, office, action, subject,
                                    details, correlation_id, outcome, alg, prev_hash, hash)
    VALUES (p_chain, p_seq, p_recorded_at, p_actor, p_role, p_office, p_action, p_subject,
            p_details, p_correlation_id, p_outcome, p_alg, p_prev, p_hash);
END;
$$;
REVOKE ALL ON FUNCTION {schema}.audit_append(text, bigint, text, timestamptz, text, text, text, text,
    text, jsonb, text, text, text, text) FROM PUBLIC;
