-- Which DecisionMade the decision in force came from: the status view's "decision sent /
-- delivered" speaks only of the notifications sent for it (a reopening sets it aside).
ALTER TABLE {schema}.applications ADD COLUMN IF NOT EXISTS decision_event_id text;
