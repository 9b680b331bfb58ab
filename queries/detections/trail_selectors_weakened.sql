-- id: trail_selectors_weakened
-- title: Trail event selectors that drop KMS or all management events
-- severity: high
-- description: Successful PutEventSelectors, PutAdvancedEventSelectors or UpdateEventDataStore
--   whose selectors stop recording KMS calls: a basic selector with includeManagementEvents false
--   or excludeManagementEventSources naming kms.amazonaws.com, an advanced selector excluding
--   eventSource kms.amazonaws.com, or advanced selectors none of which selects the Management
--   category (advanced selectors log only what they select). Selectors that add data events and
--   keep management events are not findings. One finding per call.
-- attack: T1562.008
-- dialect: json_extract_string gives an array's JSON text in both engines; the tests are on that text.
WITH selectors AS (
    SELECT *,
           json_extract_string(request_parameters, '$.eventSelectors')         AS basic,
           json_extract_string(request_parameters, '$.advancedEventSelectors') AS advanced,
           coalesce(json_extract_string(request_parameters, '$.trailName'),
                    json_extract_string(request_parameters, '$.eventDataStore'), '(unnamed)') AS trail
    FROM trail_events
    WHERE event_name IN ('PutEventSelectors', 'PutAdvancedEventSelectors', 'UpdateEventDataStore')
      AND error_code IS NULL
),
judged AS (
    SELECT *,
           CASE WHEN regexp_matches(basic, '"excludeManagementEventSources"\s*:\s*\[[^\]]*"kms\.amazonaws\.com"')
                  OR regexp_matches(advanced, '"notEquals"\s*:\s*\[[^\]]*"kms\.amazonaws\.com"')
                THEN 'excludes kms.amazonaws.com'
                WHEN regexp_matches(basic, '"includeManagementEvents"\s*:\s*false')
                  OR (advanced IS NOT NULL AND NOT regexp_matches(advanced, '"equals"\s*:\s*\[[^\]]*"Management"'))
                THEN 'drops management events (KMS calls among them)' END AS weakness
    FROM selectors
)
SELECT identity_arn,
       source_ip,
       CAST(NULL AS VARCHAR) AS key_arn,
       account_id,
       event_time AS first_seen,
       event_time AS last_seen,
       1          AS event_count,
       event_name || ' on ' || trail || ': ' || weakness AS detail
FROM judged
WHERE weakness IS NOT NULL
  AND (CAST($since AS TIMESTAMP) IS NULL OR event_time >= CAST($since AS TIMESTAMP))
ORDER BY event_time, event_id
