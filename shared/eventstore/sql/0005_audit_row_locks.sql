-- Least privilege for audit appends, and locks no other role can take.
-- audit_append becomes SECURITY DEFINER (owned by the owner, search_path pinned): the service's
-- login role may no longer INSERT into audit_log itself (shared/db/grants.py), only call this,
-- which inserts nothing but the chain's next record (seq = head + 1, prev = head's MAC) and never
-- an unkeyed ('sha256') one. A chain is serialised by a row lock on its row in audit_chains,
-- which only the owner can reach (an advisory lock needs no privilege: any role could take the
-- same key and block the chain). The audit relay leads by a row lock (SKIP LOCKED) on the single
-- row of audit_relay_lock, in its own schema, instead of an advisory lock.
CREATE TABLE IF NOT EXISTS {schema}.audit_chains (
    chain      text        PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO {schema}.audit_chains (chain)
SELECT DISTINCT chain FROM {schema}.audit_log ON CONFLICT DO NOTHING;

CREATE TABLE IF NOT EXISTS {schema}.audit_relay_lock (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton)
);
INSERT INTO {schema}.audit_relay_lock (singleton) VALUES (true) ON CONFLICT DO NOTHING;

CREATE OR REPLACE FUNCTION {schema}.audit_append(
    p_chain text, p_seq bigint, p_prev text, p_recorded_at timestamptz, p_actor text, p_role text,
    p_office text, p_action text, p_subject text, p_details jsonb, p_correlation_id text,
    p_outcome text, p_alg text, p_hash text
) RETURNS TABLE (head_seq bigint, head_hash text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    last_seq  bigint;
    last_hash text;
BEGIN
    IF p_alg IS NULL OR p_alg = 'sha256' THEN
        RAISE EXCEPTION 'audit_append: an unkeyed record (alg %) is refused', coalesce(p_alg, 'NULL');
    END IF;
    PERFORM 1 FROM {schema}.audit_chains AS c WHERE c.chain = p_chain FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO {schema}.audit_chains (chain) VALUES (p_chain) ON CONFLICT DO NOTHING;
        PERFORM 1 FROM {schema}.audit_chains AS c WHERE c.chain = p_chain FOR UPDATE;
    END IF;
    SELECT a.seq, a.hash INTO last_seq, last_hash
      FROM {schema}.audit_log AS a WHERE a.chain = p_chain ORDER BY a.seq DESC LIMIT 1;
    IF last_seq IS NULL THEN
        last_seq := 0;
        last_hash := repeat('0', 64);
    END IF;
    IF p_seq IS NULL OR p_seq <> last_seq + 1 OR p_prev IS DISTINCT FROM last_hash THEN
        RETURN QUERY SELECT last_seq, last_hash;
        RETURN;
    END IF;
    INSERT INTO {schema}.audit_log (chain, seq, recorded_at, actor, role, office, action, subject,
                                    details, correlation_id, outcome, alg, prev_hash, hash)
    VALUES (p_chain, p_seq, p_recorded_at, p_actor, p_role, p_office, p_action, p_subject,
            p_details, p_correlation_id, p_outcome, p_alg, p_prev, p_hash);
END;
$$;
REVOKE ALL ON FUNCTION {schema}.audit_append(text, bigint, text, timestamptz, text, text, text, text,
    text, jsonb, text, text, text, text) FROM PUBLIC;
