-- Complaints service: idempotency keys, registration counters, review timers, the complaints
-- projection (no personal data: the complainant is read from the stream, audited), and the
-- read model of applications and decisions learnt from applications.v1 / decisions.v1.
CREATE TABLE IF NOT EXISTS {schema}.idempotency_keys (
    scope           text        NOT NULL,
    idempotency_key text        NOT NULL,
    body_hash       text        NOT NULL,
    complaint_id    text        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, idempotency_key)
);

CREATE TABLE IF NOT EXISTS {schema}.registration_counters (
    office_id   text    NOT NULL,
    year        integer NOT NULL,
    last_number integer NOT NULL,
    PRIMARY KEY (office_id, year)
);

CREATE TABLE IF NOT EXISTS {schema}.timers (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    complaint_id  text        NOT NULL,
    kind          text        NOT NULL,
    due_at        timestamptz NOT NULL,
    target        timestamptz NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    fired_at      timestamptz,
    fired_by      text,
    cancelled_at  timestamptz,
    attempts      integer     NOT NULL DEFAULT 0,
    last_error    text,
    leased_until  timestamptz,
    leased_by     text,
    UNIQUE (complaint_id, kind, target)
);
CREATE INDEX IF NOT EXISTS timers_pending ON {schema}.timers (due_at)
    WHERE fired_at IS NULL AND cancelled_at IS NULL;

CREATE TABLE IF NOT EXISTS {schema}.complaints (
    complaint_id         text PRIMARY KEY,
    registration_number  text        NOT NULL,
    subject              text        NOT NULL,
    application_id       text,
    service_id           text,
    office_id            text        NOT NULL,
    region               text,
    officer              text,
    channel              text        NOT NULL,
    registered_at_office text,
    registered_by        text        NOT NULL,
    registered_at        timestamptz NOT NULL,
    reviewing_body       text        NOT NULL,
    reviewing_office     text        NOT NULL,
    review_due_on        date        NOT NULL,
    review_due_at        timestamptz,
    extended             boolean     NOT NULL DEFAULT false,
    approaching          boolean     NOT NULL DEFAULT false,
    breached             boolean     NOT NULL DEFAULT false,
    status               text        NOT NULL,
    outcome              text,
    reasoning            text,
    reviewed_by          text,
    resolved_at          timestamptz,
    on_time              boolean,
    reopen_case          boolean,
    escalations          jsonb       NOT NULL DEFAULT '[]'::jsonb,
    version              integer     NOT NULL,
    updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS complaints_queue ON {schema}.complaints (reviewing_office, review_due_on)
    WHERE status = 'registered';
CREATE INDEX IF NOT EXISTS complaints_by_application ON {schema}.complaints (application_id);
CREATE INDEX IF NOT EXISTS complaints_resolved ON {schema}.complaints (resolved_at) WHERE resolved_at IS NOT NULL;

CREATE TABLE IF NOT EXISTS {schema}.known_applications (
    application_id text PRIMARY KEY,
    service_id     text        NOT NULL,
    edition_id     text,
    office_id      text        NOT NULL,
    region         text,
    channel        text,
    state          text        NOT NULL,
    outcome        text,
    decided_at     timestamptz,
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- Every decision made, once per (application, instant): "applicants served" in a period.
CREATE TABLE IF NOT EXISTS {schema}.known_decisions (
    application_id text        NOT NULL,
    decided_at     timestamptz NOT NULL,
    service_id     text        NOT NULL,
    office_id      text        NOT NULL,
    PRIMARY KEY (application_id, decided_at)
);
CREATE INDEX IF NOT EXISTS known_decisions_by_time ON {schema}.known_decisions (decided_at);

-- Offices seen on applications.v1: their region, and whether they are a ЦОН (routing).
CREATE TABLE IF NOT EXISTS {schema}.known_offices (
    office_id text PRIMARY KEY,
    region    text    NOT NULL,
    tson      boolean NOT NULL DEFAULT false
);
