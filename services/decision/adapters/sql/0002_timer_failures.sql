-- A timer whose firing fails (an event that no longer decodes, a bug) is retried with back-off
-- instead of blocking every timer behind it.
ALTER TABLE {schema}.timers ADD COLUMN IF NOT EXISTS attempts integer NOT NULL DEFAULT 0;
ALTER TABLE {schema}.timers ADD COLUMN IF NOT EXISTS last_error text;
