-- Intake: idempotency keys, registration-number counters, and the status projection.

-- (scope, key) -> the application it created; written in the same transaction as its events.
CREATE TABLE IF NOT EXISTS {schema}.idempotency_keys (
    scope           text        NOT NULL,
    idempotency_key text        NOT NULL,
    body_hash       text        NOT NULL,
    application_id  uuid        NOT NULL,
    outcome         text        NOT NULL CHECK (outcome IN ('accepted', 'rejected')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, idempotency_key)
);

-- Gap-free registration numbers per office and year (<office>-<yyyy>-<nnnnnn>).
CREATE TABLE IF NOT EXISTS {schema}.registration_counters (
    office_id   text    NOT NULL,
    year        integer NOT NULL,
    last_number integer NOT NULL,
    PRIMARY KEY (office_id, year)
);

-- Status projection: built only by the projector from the event store (rebuildable).
CREATE TABLE IF NOT EXISTS {schema}.applications (
    application_id      uuid        PRIMARY KEY,
    registration_number text,
    status              text        NOT NULL,
    service_id          text        NOT NULL,
    subtype             text,
    edition_id          text,
    channel             text        NOT NULL,
    office_id           text        NOT NULL,
    region              text,
    received_by         text        NOT NULL,
    submitted_at        timestamptz NOT NULL,
    due_at              timestamptz,
    documents           jsonb       NOT NULL DEFAULT '[]'::jsonb,
    problems            jsonb       NOT NULL DEFAULT '[]'::jsonb,
    applicant_iin       text,
    correlation_id      text,
    updated_at          timestamptz NOT NULL,
    last_version        integer     NOT NULL
);
CREATE INDEX IF NOT EXISTS applications_by_office ON {schema}.applications (office_id, submitted_at DESC, application_id DESC);
CREATE INDEX IF NOT EXISTS applications_by_time ON {schema}.applications (submitted_at DESC, application_id DESC);
CREATE INDEX IF NOT EXISTS applications_by_iin ON {schema}.applications (applicant_iin);

CREATE TABLE IF NOT EXISTS {schema}.application_history (
    application_id  uuid        NOT NULL,
    version         integer     NOT NULL,
    event_type      text        NOT NULL,
    recorded_at     timestamptz NOT NULL,
    actor           text,
    PRIMARY KEY (application_id, version)
);
