-- The region of a notification (its events carry it as the ce_region header).
ALTER TABLE {schema}.notifications ADD COLUMN IF NOT EXISTS region text;

-- Events about an application (or complaint) that arrived before its registration (they travel on
-- other topics, so nothing orders them): kept here and planned when the registration arrives,
-- instead of holding up the consumer.
CREATE TABLE IF NOT EXISTS {schema}.deferred_triggers (
    subject         text        NOT NULL,
    event_id        text        NOT NULL,
    event_type      text        NOT NULL,   -- CloudEvents type
    data            jsonb       NOT NULL,
    region          text,
    received_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (subject, event_id)
);

-- When the pickup notice was handed over (the result collected at the desk).
ALTER TABLE {schema}.pickup_notices ADD COLUMN IF NOT EXISTS handed_over_at timestamptz;
