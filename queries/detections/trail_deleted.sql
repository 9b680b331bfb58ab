-- id: trail_deleted
-- title: CloudTrail trail or event data store deleted
-- severity: high
-- description: Successful DeleteTrail or DeleteEventDataStore, from the trail's own management
--   events (trail_events): the record of every later KMS call goes with it. One finding per call.
-- attack: T1562.008, T1070
-- dialect: json_extract_string translates.
SELECT identity_arn,
       source_ip,
       CAST(NULL AS VARCHAR) AS key_arn,
       account_id,
       event_time AS first_seen,
       event_time AS last_seen,
       1          AS event_count,
       event_name || ' ' || coalesce(json_extract_string(request_parameters, '$.name'),
                                     json_extract_string(request_parameters, '$.eventDataStore'), '(unnamed)') AS detail
FROM trail_events
WHERE event_name IN ('DeleteTrail', 'DeleteEventDataStore')
  AND error_code IS NULL
  AND (CAST($since AS TIMESTAMP) IS NULL OR event_time >= CAST($since AS TIMESTAMP))
ORDER BY event_time, event_id
