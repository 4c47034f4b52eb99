-- The decision service's ruling on a withdrawal (`CaseWithdrawn`): later triggers of the
-- application plan nothing. Who received the application (a ЦОН operator reads only their own).
ALTER TABLE {schema}.recipients ADD COLUMN IF NOT EXISTS withdrawn_at timestamptz;
ALTER TABLE {schema}.recipients ADD COLUMN IF NOT EXISTS received_by text;
