-- kms_events (and trail_events, the trail's own CloudTrail events) over the raw CloudTrail table:
-- the events of one source in the shape of the local table, so that every detection and report
-- runs on it unchanged. The mapping is the local ingest's own, schemas/cloudtrail/normalize.sql,
-- translated to Trino by src/athena/dialect.ts; callers resolve through {{principals}}
-- (principals.sql over the whole trail, every service: it reads the trail's objects a second
-- time). Differences from an ingested table: no de-duplication (an event CloudTrail delivered
-- twice counts twice), record_hash is NULL, resources is JSON with lowercase keys, an eventTime
-- that is no real time gives a NULL event_time instead of quarantine, and delivery_date (the
-- "timestamp" partition, yyyy-MM-dd) takes the place of event_date: filter on it, and on account
-- and region, to read less of the trail.
CREATE OR REPLACE VIEW {{view}} AS
SELECT {{columns}},
       n.record_ref AS delivery_date
FROM (
{{normalized}}
) n
