-- section: ingest
-- title: Data completeness
-- description: What the database holds, whatever the report's period: log objects read, objects
--   quarantined (unreadable, see ingested_objects) or not fetched, and when the last ingest ran.
--   Local databases only: Athena has no ingest manifest, and the report leaves this out there.
-- requires: ingested_objects
SELECT count(*)                                        AS objects,
       count(*) FILTER (WHERE status = 'quarantined')  AS quarantined,
       count(*) FILTER (WHERE status = 'failed')       AS failed,
       max(ingested_at)                                AS last_ingest
FROM ingested_objects
