-- A redelivery is a delivery of its own (a new delivery id: receivers deduplicate on it), noting
-- the delivery it repeats. One original delivery per subscription and event, as before.
ALTER TABLE {schema}.webhook_deliveries ADD COLUMN IF NOT EXISTS redelivery_of uuid;
ALTER TABLE {schema}.webhook_deliveries
    DROP CONSTRAINT IF EXISTS webhook_deliveries_subscription_id_event_id_key;
CREATE UNIQUE INDEX IF NOT EXISTS webhook_deliveries_original
    ON {schema}.webhook_deliveries (subscription_id, event_id) WHERE redelivery_of IS NULL;
