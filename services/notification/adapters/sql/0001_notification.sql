-- Notification service: applicants' contacts (personal data), notifications with their delivery
-- states, the post's manifest, pickup notices, results waiting to be collected, ЦОН webhooks.

-- Contacts as the application (or complaint) gave them: personal data, read only to deliver.
CREATE TABLE IF NOT EXISTS {schema}.recipients (
    subject         text PRIMARY KEY,           -- 'application/<id>' or 'complaint/<id>'
    application_id  text,
    office_id       text,
    region          text,
    service_id      text,
    edition_id      text,
    registration_number text,
    language        text        NOT NULL,
    phone           text,
    email           text,
    address         text,
    recorded_at     timestamptz NOT NULL DEFAULT now()
);

-- One notification per (trigger event, channel): the unique key makes redeliveries and restarts
-- harmless. `context` holds the template's data (no personal data: names and contacts stay in
-- `recipients`).
CREATE TABLE IF NOT EXISTS {schema}.notifications (
    notification_id uuid PRIMARY KEY,
    trigger_event_id text       NOT NULL,
    channel         text        NOT NULL,
    kind            text        NOT NULL,
    recipient       text        NOT NULL,
    application_id  text,
    complaint_id    text,
    office_id       text,
    language        text        NOT NULL,
    context         jsonb       NOT NULL,
    state           text        NOT NULL,
    reason          text,
    attempt         int         NOT NULL DEFAULT 0,
    next_attempt_at timestamptz,
    give_up_at      timestamptz NOT NULL,
    leased_until    timestamptz,
    leased_by       text,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    UNIQUE (trigger_event_id, channel)
);
CREATE INDEX IF NOT EXISTS notifications_due ON {schema}.notifications (next_attempt_at)
    WHERE state = 'ON_DELIVERY';
CREATE INDEX IF NOT EXISTS notifications_application ON {schema}.notifications (application_id);

CREATE TABLE IF NOT EXISTS {schema}.notification_history (
    notification_id uuid        NOT NULL REFERENCES {schema}.notifications ON DELETE CASCADE,
    seq             int         NOT NULL,
    state           text        NOT NULL,
    reason          text,
    attempt         int         NOT NULL,
    changed_at      timestamptz NOT NULL,
    PRIMARY KEY (notification_id, seq)
);

-- The post's manifest: one letter per row (the address is personal data).
CREATE TABLE IF NOT EXISTS {schema}.post_manifest (
    notification_id uuid PRIMARY KEY,
    application_id  text,
    office_id       text,
    language        text        NOT NULL,
    address         text        NOT NULL,
    subject_line    text        NOT NULL,
    body            text        NOT NULL,
    recorded_at     timestamptz NOT NULL
);

-- Notices handed over in person when the applicant comes to the office.
CREATE TABLE IF NOT EXISTS {schema}.pickup_notices (
    notification_id uuid PRIMARY KEY,
    application_id  text,
    office_id       text,
    language        text        NOT NULL,
    subject_line    text        NOT NULL,
    body            text        NOT NULL,
    recorded_at     timestamptz NOT NULL
);

-- Results waiting to be collected in person, for the catalog's keeping period.
CREATE TABLE IF NOT EXISTS {schema}.result_keeping (
    application_id  text PRIMARY KEY,
    service_id      text        NOT NULL,
    office_id       text        NOT NULL,
    region          text        NOT NULL,
    ready_since     timestamptz NOT NULL,
    kept_until      date        NOT NULL,
    expires_at      timestamptz NOT NULL,
    keeping_basis   text        NOT NULL,
    storage_step    text        NOT NULL,
    state           text        NOT NULL,   -- waiting, collected, uncollected, cancelled
    trigger_event_id text       NOT NULL,
    leased_until    timestamptz,
    leased_by       text,
    closed_at       timestamptz
);
CREATE INDEX IF NOT EXISTS result_keeping_due ON {schema}.result_keeping (expires_at)
    WHERE state = 'waiting';

-- ЦОН webhook subscriptions. The secret is kept in clear because it signs every delivery; it
-- never leaves this table (no API answer, no log).
CREATE TABLE IF NOT EXISTS {schema}.webhook_subscriptions (
    subscription_id uuid PRIMARY KEY,
    url             text        NOT NULL,
    secret          text        NOT NULL,
    regions         text[]      NOT NULL DEFAULT '{}',
    services        text[]      NOT NULL DEFAULT '{}',
    event_types     text[]      NOT NULL,
    active          boolean     NOT NULL DEFAULT true,
    created_by      text        NOT NULL,
    created_at      timestamptz NOT NULL
);

-- decisions.v1 events as received (no personal data): what redelivery sends again.
CREATE TABLE IF NOT EXISTS {schema}.webhook_events (
    event_id        text PRIMARY KEY,
    event_type      text        NOT NULL,
    region          text,
    service_id      text,
    occurred_at     timestamptz NOT NULL,
    body            text        NOT NULL
);
CREATE INDEX IF NOT EXISTS webhook_events_time ON {schema}.webhook_events (occurred_at);

CREATE TABLE IF NOT EXISTS {schema}.webhook_deliveries (
    delivery_id     uuid PRIMARY KEY,
    subscription_id uuid        NOT NULL REFERENCES {schema}.webhook_subscriptions ON DELETE CASCADE,
    event_id        text        NOT NULL REFERENCES {schema}.webhook_events,
    state           text        NOT NULL,
    reason          text,
    attempt         int         NOT NULL DEFAULT 0,
    next_attempt_at timestamptz,
    give_up_at      timestamptz NOT NULL,
    leased_until    timestamptz,
    leased_by       text,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    UNIQUE (subscription_id, event_id)
);
CREATE INDEX IF NOT EXISTS webhook_deliveries_due ON {schema}.webhook_deliveries (next_attempt_at)
    WHERE state = 'ON_DELIVERY';

-- The delivery log: every attempt with its answer.
CREATE TABLE IF NOT EXISTS {schema}.webhook_attempts (
    delivery_id     uuid        NOT NULL REFERENCES {schema}.webhook_deliveries ON DELETE CASCADE,
    attempt         int         NOT NULL,
    attempted_at    timestamptz NOT NULL,
    status_code     int,
    outcome         text        NOT NULL,   -- delivered, retry, failed
    reason          text,
    PRIMARY KEY (delivery_id, attempt)
);
