-- id: trail_blinded
-- title: Trail quietly blinded: read events dropped, log validation off, or the trail's own KMS key taken away
-- severity: high
-- description: Changes that leave a trail running but blind to KMS use. PutEventSelectors whose
--   basic selectors record management events with readWriteType WriteOnly, and advanced selectors
--   that keep Management events only where readOnly equals false: KMS Encrypt, Decrypt and
--   GenerateDataKey are read-only events, so every usage rule goes blind (selectors that drop
--   management events or KMS altogether are trail_selectors_weakened). UpdateTrail with
--   enableLogFileValidation false (log files can then be altered unnoticed). DisableKey,
--   ScheduleKeyDeletion, or a PutKeyPolicy without cloudtrail.amazonaws.com, on the key CloudTrail
--   encrypts the trail's log files with (the key it calls GenerateDataKey on with
--   aws:cloudtrail:arn): delivery stops. Where the data shows the gap, the finding says so: no
--   read-only KMS event from the account for gap_hours or more after a selector change, when it had
--   some in at least busy_hours of the 24 hours before (an account that always has them). One
--   finding per call. $since reports only calls at or after it.
-- attack: T1562.008, T1562.001
-- params: gap_hours=2, busy_hours=20
-- dialect: json_extract_string gives an array's JSON text in both engines; the tests are on that
--   text. to_hours(n) is n * INTERVAL '1' HOUR in Trino; date_diff counts boundaries (the dialect
--   truncates).
WITH trail_calls AS (
    SELECT event_id, identity_arn, source_ip, account_id, event_time, event_name,
           coalesce(json_extract_string(request_parameters, '$.trailName'),
                    json_extract_string(request_parameters, '$.name'), '(unnamed)')          AS trail,
           json_extract_string(request_parameters, '$.eventSelectors')                        AS basic,
           json_extract_string(request_parameters, '$.advancedEventSelectors')                AS advanced,
           json_extract_string(request_parameters, '$.enableLogFileValidation')               AS validation
    FROM trail_events
    WHERE event_name IN ('PutEventSelectors', 'PutAdvancedEventSelectors', 'UpdateTrail')
      AND error_code IS NULL
),
selector_changes AS (
    SELECT event_id, identity_arn, source_ip, CAST(NULL AS VARCHAR) AS key_arn, account_id, event_time,
           CASE WHEN event_name = 'UpdateTrail' AND validation = 'false'
                THEN 'UpdateTrail on ' || trail || ': log file validation turned off (enableLogFileValidation false)'
                WHEN regexp_matches(basic, '"readWriteType"\s*:\s*"WriteOnly"')
                     AND NOT regexp_matches(basic, '"includeManagementEvents"\s*:\s*false')
                     AND NOT regexp_matches(basic, '"excludeManagementEventSources"\s*:\s*\[[^\]]*"kms\.amazonaws\.com"')
                THEN event_name || ' on ' || trail || ': readWriteType WriteOnly, so KMS Encrypt, Decrypt and GenerateDataKey (read-only events) are no longer logged'
                -- One selector (its fieldSelectors: objects with no braces inside, between commas) that
                -- selects Management and readOnly false.
                WHEN regexp_matches(advanced, '\{[^{}]*"Management"[^{}]*\}(\s*,\s*\{[^{}]*\})*\s*,\s*\{[^{}]*"readOnly"[^{}]*"false"[^{}]*\}|\{[^{}]*"readOnly"[^{}]*"false"[^{}]*\}(\s*,\s*\{[^{}]*\})*\s*,\s*\{[^{}]*"Management"[^{}]*\}')
                     AND NOT regexp_matches(advanced, '"notEquals"\s*:\s*\[[^\]]*"kms\.amazonaws\.com"')
                THEN event_name || ' on ' || trail || ': advanced selectors keep management events only where readOnly is false, so KMS Encrypt, Decrypt and GenerateDataKey are no longer logged'
           END AS change,
           CASE WHEN event_name = 'UpdateTrail' THEN 0 ELSE 1 END AS drops_reads
    FROM trail_calls
),
-- Keys CloudTrail encrypts log files with, and the trails they serve.
trail_keys AS (
    SELECT key_arn,
           string_agg(DISTINCT json_extract_string(encryption_context, '$.aws:cloudtrail:arn'), ', '
                      ORDER BY json_extract_string(encryption_context, '$.aws:cloudtrail:arn')) AS trails
    FROM kms_events
    WHERE event_name = 'GenerateDataKey'
      AND error_code IS NULL
      AND key_arn IS NOT NULL
      AND json_extract_string(encryption_context, '$.aws:cloudtrail:arn') IS NOT NULL
    GROUP BY key_arn
),
key_changes AS (
    SELECT e.event_id, e.identity_arn, e.source_ip, e.key_arn, e.account_id, e.event_time,
           e.event_name || ' on the KMS key of ' || t.trails
             || CASE WHEN e.event_name = 'PutKeyPolicy' THEN ': the new policy does not name cloudtrail.amazonaws.com'
                     ELSE '' END
             || ': CloudTrail cannot encrypt the log files, so delivery stops' AS change,
           0 AS drops_reads
    FROM kms_events e
    JOIN trail_keys t ON t.key_arn = e.key_arn
    WHERE e.error_code IS NULL
      AND (e.event_name IN ('DisableKey', 'ScheduleKeyDeletion')
           OR (e.event_name = 'PutKeyPolicy'
               AND NOT regexp_matches(coalesce(json_extract_string(e.request_parameters, '$.policy'), 'cloudtrail.amazonaws.com'), 'cloudtrail\.amazonaws\.com')))
),
changes AS (
    SELECT * FROM selector_changes WHERE change IS NOT NULL
    UNION ALL
    SELECT * FROM key_changes
),
-- The gap in the data: read-only KMS events of the account in the day before and the two days after.
reads AS (
    SELECT c.event_id,
           sum(CASE WHEN r.event_time < c.event_time THEN 1 ELSE 0 END)     AS reads_before,
           count(DISTINCT CASE WHEN r.event_time < c.event_time THEN date_trunc('hour', r.event_time) END) AS busy_before,
           min(CASE WHEN r.event_time > c.event_time THEN r.event_time END) AS next_read
    FROM changes c
    JOIN kms_events r
      ON r.account_id = c.account_id
     AND r.read_only
     AND r.event_time >= c.event_time - to_hours(24)
     AND r.event_time <= c.event_time + to_hours(48)
    WHERE c.drops_reads = 1
    GROUP BY c.event_id
),
data_end AS (
    SELECT max(event_time) AS last_event FROM kms_events
)
SELECT c.identity_arn,
       c.source_ip,
       c.key_arn,
       c.account_id,
       c.event_time AS first_seen,
       c.event_time AS last_seen,
       1            AS event_count,
       c.change
         || CASE WHEN r.busy_before >= CAST($busy_hours AS INTEGER)
                      AND date_diff('hour', c.event_time, coalesce(r.next_read, CASE WHEN d.last_event < c.event_time + to_hours(48) THEN d.last_event ELSE c.event_time + to_hours(48) END))
                          >= CAST($gap_hours AS INTEGER)
                 THEN '; the data shows the gap: no read-only KMS event from account ' || c.account_id || ' for '
                      || CAST(date_diff('hour', c.event_time, coalesce(r.next_read, CASE WHEN d.last_event < c.event_time + to_hours(48) THEN d.last_event ELSE c.event_time + to_hours(48) END)) AS VARCHAR)
                      || CASE WHEN r.next_read IS NULL THEN '+' ELSE '' END
                      || ' h after it, against ' || CAST(r.reads_before AS VARCHAR) || ' in the 24 h before'
                 ELSE '' END AS detail
FROM changes c
LEFT JOIN reads r ON r.event_id = c.event_id
CROSS JOIN data_end d
WHERE CAST($since AS TIMESTAMP) IS NULL OR c.event_time >= CAST($since AS TIMESTAMP)
ORDER BY c.event_time, c.event_id
