-- Append-only, hash-chained audit log of administrative actions.
CREATE TABLE IF NOT EXISTS {schema}.audit_log (
    seq          bigint      PRIMARY KEY,
    recorded_at  timestamptz NOT NULL,
    actor        text        NOT NULL,
    role         text        NOT NULL,
    office       text,
    action       text        NOT NULL,
    subject      text        NOT NULL,
    details      jsonb       NOT NULL DEFAULT '{}'::jsonb,
    correlation_id text,
    prev_hash    text        NOT NULL,
    hash         text        NOT NULL
);

CREATE TABLE IF NOT EXISTS {schema}.audit_head (
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    seq         bigint  NOT NULL,
    hash        text    NOT NULL
);
INSERT INTO {schema}.audit_head (singleton, seq, hash)
VALUES (true, 0, repeat('0', 64)) ON CONFLICT DO NOTHING;

CREATE OR REPLACE FUNCTION {schema}.audit_log_is_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP;
END;
$$;

DROP TRIGGER IF EXISTS audit_log_append_only ON {schema}.audit_log;
CREATE TRIGGER audit_log_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON {schema}.audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION {schema}.audit_log_is_append_only();
