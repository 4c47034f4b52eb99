-- Webhook bodies kept before the allow-list carried the decision's evaluation (incomes quoted in
-- its conditions, household members, facts): drop it from what redelivery would send again.
UPDATE {schema}.webhook_events SET body = (body::jsonb #- '{data,evaluation}')::text
    WHERE body::jsonb -> 'data' ? 'evaluation';
