-- What the status view shows beside the status: the complaints about the application (id ->
-- review due date, outcome, escalation) and what the applicant was told (notification id -> kind,
-- channel, delivery state), and whether the result was collected. Built by the projector only.
ALTER TABLE {schema}.applications ADD COLUMN IF NOT EXISTS complaints jsonb NOT NULL DEFAULT '{}'::jsonb;
ALTER TABLE {schema}.applications ADD COLUMN IF NOT EXISTS notifications jsonb NOT NULL DEFAULT '{}'::jsonb;
ALTER TABLE {schema}.applications ADD COLUMN IF NOT EXISTS result_collection text;
ALTER TABLE {schema}.applications ADD COLUMN IF NOT EXISTS result_collection_at timestamptz;
