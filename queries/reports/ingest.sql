-- section: ingest
-- title: Data completeness
-- description: What the database holds, whatever the report's period: log objects read, objects
--   quarantined (unreadable, see ingested_objects) or not fetched, and when the last ingest ran;
--   the days read from CloudTrail Event history (ingest event-history://) and the KMS events first
--   read from it, whose source_object is an event-history:// day rather than a trail's log object.
--   Local databases only: Athena has no ingest manifest, and the report leaves this out there.
-- requires: ingested_objects
SELECT count(*)                                        AS objects,
       count(*) FILTER (WHERE status = 'quarantined')  AS quarantined,
       count(*) FILTER (WHERE status = 'failed')       AS failed,
       max(ingested_at)                                AS last_ingest,
       count(*) FILTER (WHERE starts_with(object_uri, 'event-history://')) AS event_history_days,
       (SELECT count(*) FROM kms_events WHERE starts_with(source_object, 'event-history://')) AS event_history_events
FROM ingested_objects
