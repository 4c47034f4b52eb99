-- Review findings: the region of each decision made (figures count the region's local days), a
-- keyed hash of the applicant's ИИН (distinct applicants served; never the ИИН itself), and no
-- reviewer's reasoning in the projection (personal data: read from the stream, audited).
ALTER TABLE {schema}.known_decisions ADD COLUMN IF NOT EXISTS region text;
ALTER TABLE {schema}.known_applications ADD COLUMN IF NOT EXISTS applicant_key text;
ALTER TABLE {schema}.complaints DROP COLUMN IF EXISTS reasoning;
