-- The scheduler leases due timers in a short transaction of its own and fires each one as an
-- ordinary command (its own unit of work): it never holds timer rows locked while it appends to
-- a case, so it takes locks in the same order as every other command (events, then timers).
ALTER TABLE {schema}.timers ADD COLUMN IF NOT EXISTS leased_until timestamptz;
ALTER TABLE {schema}.timers ADD COLUMN IF NOT EXISTS leased_by text;
