-- Administrator decisions about the catalog: parameter values and edition adoptions.
-- Append-only: a correction is a newer record (later recorded_at wins on a tie of period).
CREATE TABLE IF NOT EXISTS {schema}.parameter_values (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    parameter       text        NOT NULL,
    region          text        NOT NULL,
    effective_from  date        NOT NULL,
    effective_to    date,
    value           jsonb       NOT NULL,
    source          text        NOT NULL,
    note            text,
    recorded_by     text        NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    CHECK (effective_to IS NULL OR effective_to > effective_from)
);
CREATE INDEX IF NOT EXISTS parameter_values_lookup ON {schema}.parameter_values (parameter, region);

CREATE TABLE IF NOT EXISTS {schema}.edition_adoptions (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    service         text        NOT NULL,
    edition         text        NOT NULL,
    region          text        NOT NULL,
    effective_from  date        NOT NULL,
    effective_to    date,
    adopted_by      text        NOT NULL,
    reason          text        NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    CHECK (effective_to IS NULL OR effective_to > effective_from)
);

CREATE OR REPLACE FUNCTION {schema}.catalog_records_are_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
END;
$$;
DROP TRIGGER IF EXISTS parameter_values_append_only ON {schema}.parameter_values;
CREATE TRIGGER parameter_values_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {schema}.parameter_values
    FOR EACH STATEMENT EXECUTE FUNCTION {schema}.catalog_records_are_append_only();
DROP TRIGGER IF EXISTS edition_adoptions_append_only ON {schema}.edition_adoptions;
CREATE TRIGGER edition_adoptions_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {schema}.edition_adoptions
    FOR EACH STATEMENT EXECUTE FUNCTION {schema}.catalog_records_are_append_only();
