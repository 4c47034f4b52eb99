-- The application's decision as far as the desk needs it: a result is handed over only for a
-- decided application whose result is collected in person.
ALTER TABLE {schema}.recipients ADD COLUMN IF NOT EXISTS decided_at timestamptz;
ALTER TABLE {schema}.recipients ADD COLUMN IF NOT EXISTS result_in_person boolean;
