-- id: trail_logging_stopped
-- title: CloudTrail logging stopped
-- severity: high
-- description: Successful StopLogging on a trail (or StopEventDataStoreIngestion on a CloudTrail
--   Lake event data store), from the trail's own management events (trail_events). While logging
--   is stopped nothing is recorded, KMS calls included. The detail says how long until logging
--   restarted (StartLogging / StartEventDataStoreIngestion on the same trail), or that it had not
--   restarted by the newest event of that account. One finding per stop.
-- attack: T1562.008
-- dialect: regexp_replace with 'g' and json_extract_string translate; epoch differences are seconds.
WITH changes AS (
    SELECT *,
           regexp_replace(coalesce(json_extract_string(request_parameters, '$.name'),
                                   json_extract_string(request_parameters, '$.eventDataStore')), '^.*:(trail|eventdatastore)/', '', 'g') AS trail
    FROM trail_events
    WHERE event_name IN ('StopLogging', 'StartLogging', 'StopEventDataStoreIngestion', 'StartEventDataStoreIngestion')
      AND error_code IS NULL
),
stops AS (
    SELECT s.identity_arn, s.source_ip, s.account_id, s.event_time, s.event_id, s.trail,
           min(r.event_time) AS restarted
    FROM changes s
    LEFT JOIN changes r
      ON r.account_id = s.account_id AND r.trail = s.trail AND r.event_time >= s.event_time
     AND r.event_name IN ('StartLogging', 'StartEventDataStoreIngestion')
    WHERE s.event_name IN ('StopLogging', 'StopEventDataStoreIngestion')
    GROUP BY s.identity_arn, s.source_ip, s.account_id, s.event_time, s.event_id, s.trail
)
SELECT identity_arn,
       source_ip,
       CAST(NULL AS VARCHAR) AS key_arn,
       account_id,
       event_time AS first_seen,
       coalesce(restarted, event_time) AS last_seen,
       1 AS event_count,
       'logging stopped on ' || coalesce(trail, '(unnamed trail)')
         || CASE WHEN restarted IS NULL THEN ': not restarted by the newest event recorded'
                 ELSE ': restarted ' || printf('%.0f', (epoch(restarted) - epoch(event_time)) / 60.0) || ' min later' END AS detail
FROM stops
WHERE CAST($since AS TIMESTAMP) IS NULL OR event_time >= CAST($since AS TIMESTAMP)
ORDER BY event_time, event_id
