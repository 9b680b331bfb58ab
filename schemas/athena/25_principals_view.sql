-- The principals directory over the raw CloudTrail table (every service's records): IAM unique
-- ids (AROA…, AIDA…) and their ARNs, as the local ingest learns them: schemas/cloudtrail/
-- principals.sql, translated to Trino. kms_events resolves cross-account callers through it.
CREATE OR REPLACE VIEW {{view}} AS
{{principals}}
