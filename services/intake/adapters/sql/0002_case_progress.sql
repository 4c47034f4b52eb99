-- The status view follows the application's whole life: the case's steps in the decision service
-- (learnt from decisions.v1 / inspections.v1 and stored on the application stream) move `status`;
-- `is_open` says whether the application still awaits its decision (only an open one is overdue).
ALTER TABLE {schema}.applications ADD COLUMN IF NOT EXISTS is_open boolean;
UPDATE {schema}.applications SET is_open = (status = 'submitted') WHERE is_open IS NULL;
ALTER TABLE {schema}.applications ALTER COLUMN is_open SET NOT NULL;
ALTER TABLE {schema}.applications ADD COLUMN IF NOT EXISTS status_at timestamptz;
ALTER TABLE {schema}.applications ADD COLUMN IF NOT EXISTS executor text;
ALTER TABLE {schema}.applications ADD COLUMN IF NOT EXISTS inspection_date date;
ALTER TABLE {schema}.applications ADD COLUMN IF NOT EXISTS decision_outcome text;
ALTER TABLE {schema}.applications ADD COLUMN IF NOT EXISTS decided_at timestamptz;
ALTER TABLE {schema}.applications ADD COLUMN IF NOT EXISTS decision_grounds jsonb NOT NULL DEFAULT '[]'::jsonb;
CREATE INDEX IF NOT EXISTS applications_open_by_due ON {schema}.applications (due_at) WHERE is_open;

-- The status each step left the application in (intake's own events and the case's steps).
ALTER TABLE {schema}.application_history ADD COLUMN IF NOT EXISTS status text;
