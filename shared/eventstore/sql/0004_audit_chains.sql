-- Keyed audit chains, one per (schema, chain): the chain is the office of the action, or '-'.
-- Appends are INSERT-only: audit_append() serialises one chain with a transaction advisory lock
-- and inserts only when the caller knows the chain's head; the single audit_head row is gone.
-- Records written before this migration stay as they are, marked alg = 'sha256' (unkeyed).
ALTER TABLE {schema}.audit_log ADD COLUMN IF NOT EXISTS chain text NOT NULL DEFAULT '-';
ALTER TABLE {schema}.audit_log ADD COLUMN IF NOT EXISTS outcome text NOT NULL DEFAULT 'ok'
    CHECK (outcome IN ('ok', 'denied', 'failed'));
ALTER TABLE {schema}.audit_log ADD COLUMN IF NOT EXISTS alg text NOT NULL DEFAULT 'sha256';
ALTER TABLE {schema}.audit_log ALTER COLUMN chain DROP DEFAULT;
ALTER TABLE {schema}.audit_log ALTER COLUMN alg DROP DEFAULT;
ALTER TABLE {schema}.audit_log DROP CONSTRAINT IF EXISTS audit_log_pkey;
ALTER TABLE {schema}.audit_log ADD CONSTRAINT audit_log_pkey PRIMARY KEY (chain, seq);
CREATE INDEX IF NOT EXISTS audit_log_recorded_at ON {schema}.audit_log (recorded_at);
DROP TABLE IF EXISTS {schema}.audit_head;

-- One round trip per append: lock the chain, read its head, and insert the record if the caller
-- computed its MAC on that head (p_seq = head + 1, p_prev = head's hash). Otherwise nothing is
-- inserted and the head is returned, so the caller computes the MAC again. p_seq NULL only asks.
CREATE OR REPLACE FUNCTION {schema}.audit_append(
    p_chain text, p_seq bigint, p_prev text, p_recorded_at timestamptz, p_actor text, p_role text,
    p_office text, p_action text, p_subject text, p_details jsonb, p_correlation_id text,
    p_outcome text, p_alg text, p_hash text
) RETURNS TABLE (head_seq bigint, head_hash text)
LANGUAGE plpgsql AS $$
DECLARE
    last_seq  bigint;
    last_hash text;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('audit:{schema}'), hashtext(p_chain));
    SELECT a.seq, a.hash INTO last_seq, last_hash
      FROM {schema}.audit_log AS a WHERE a.chain = p_chain ORDER BY a.seq DESC LIMIT 1;
    IF last_seq IS NULL THEN
        last_seq := 0;
        last_hash := repeat('0', 64);
    END IF;
    IF p_seq IS NULL OR p_seq <> last_seq + 1 OR p_prev <> last_hash THEN
        RETURN QUERY SELECT last_seq, last_hash;
        RETURN;
    END IF;
    INSERT INTO {schema}.audit_log (chain, seq, recorded_at, actor, role, office, action, subject,
                                    details, correlation_id, outcome, alg, prev_hash, hash)
    VALUES (p_chain, p_seq, p_recorded_at, p_actor, p_role, p_office, p_action, p_subject,
            p_details, p_correlation_id, p_outcome, p_alg, p_prev, p_hash);
END;
$$;

-- What the audit relay has published on audit.v1, per chain, and its last anchor.
CREATE TABLE IF NOT EXISTS {schema}.audit_relay_checkpoints (
    chain        text        PRIMARY KEY,
    seq          bigint      NOT NULL,
    anchored_seq bigint      NOT NULL DEFAULT 0,
    updated_at   timestamptz NOT NULL DEFAULT now()
);
