-- How far `qyzmet audit verify --accept-legacy` may accept unkeyed records (alg 'sha256', made
-- before 0004 moved them to chain '-'): the last seq of the leading run of unkeyed '-' records
-- when this migration ran (0 when there were none). Owned by the owner; a service's login role
-- may only read it (shared/db/grants.py), so it cannot widen what verify accepts. An unkeyed
-- record above the boundary was made without the key: a rewrite, never legacy.
CREATE TABLE IF NOT EXISTS {schema}.audit_legacy_boundary (
    chain       text        PRIMARY KEY,
    last_seq    bigint      NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO {schema}.audit_legacy_boundary (chain, last_seq)
SELECT '-', coalesce(
    (SELECT min(seq) - 1 FROM {schema}.audit_log WHERE chain = '-' AND alg <> 'sha256'),
    (SELECT max(seq) FROM {schema}.audit_log WHERE chain = '-'),
    0)
ON CONFLICT DO NOTHING;
