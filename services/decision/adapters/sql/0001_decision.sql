-- Decision service: SLA / entitlement timers and the case worklist projection.
CREATE TABLE IF NOT EXISTS {schema}.timers (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    application_id  text        NOT NULL,
    kind            text        NOT NULL,
    due_at          timestamptz NOT NULL,
    target          timestamptz NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    fired_at        timestamptz,
    fired_by        text,
    cancelled_at    timestamptz,
    UNIQUE (application_id, kind, target)
);
CREATE INDEX IF NOT EXISTS timers_pending ON {schema}.timers (due_at)
    WHERE fired_at IS NULL AND cancelled_at IS NULL;

CREATE TABLE IF NOT EXISTS {schema}.cases (
    application_id      text PRIMARY KEY,
    registration_number text,
    service_id          text        NOT NULL,
    edition_id          text        NOT NULL,
    channel             text        NOT NULL,
    office_id           text        NOT NULL,
    region              text        NOT NULL,
    status              text        NOT NULL,
    executor            text,
    received_at         timestamptz NOT NULL,
    due_at              timestamptz,
    decided_at          timestamptz,
    outcome             text,
    breached            boolean     NOT NULL DEFAULT false,
    flags               jsonb       NOT NULL DEFAULT '[]'::jsonb,
    version             integer     NOT NULL,
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS cases_open_by_office ON {schema}.cases (office_id, due_at)
    WHERE decided_at IS NULL;
