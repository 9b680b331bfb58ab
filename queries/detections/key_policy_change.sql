-- id: key_policy_change
-- title: Key policy changed who may use or manage the key: lockout, denial, a service removed
-- severity: high
-- description: Each successful CreateKey (with a policy) and PutKeyPolicy compared with the key's
--   previous policy: its last policy change earlier in the data, else the latest live audit taken
--   before it (keytrail keys audit; DuckDB only), else for CreateKey KMS's default policy. High: the
--   account root's "Enable IAM" statement removed (only the principals left in the policy control
--   the key: the ransom lockout), a Deny of use for everyone but a few principals added (a denial
--   of service), cloudtrail.amazonaws.com removed from the key CloudTrail encrypts its logs with
--   (the key it calls GenerateDataKey on with aws:cloudtrail:arn: log delivery stops). Medium:
--   another service principal removed. Low: principals added or removed, everything else kept. The
--   SQL selects the changes with the previous policy; the key_policy_change analyzer
--   (src/detect/policy-change.ts) writes the diff. One finding per policy change.
-- attack: T1531, T1485, T1562.008
-- analyze: key_policy_change
-- dialect: json_extract_string as in key_policy_exposure; strftime is date_format in Trino; lag is
--   the same in both.
WITH changes AS (
    SELECT event_id, identity_arn, source_ip, key_arn, account_id, event_time, event_name,
           json_extract_string(request_parameters, '$.policy') AS policy
    FROM kms_events
    WHERE event_name IN ('CreateKey', 'PutKeyPolicy')
      AND error_code IS NULL
      AND key_arn IS NOT NULL
      AND json_extract_string(request_parameters, '$.policy') IS NOT NULL
),
ordered AS (
    SELECT *, lag(policy) OVER (PARTITION BY key_arn ORDER BY event_time, event_id) AS previous
    FROM changes
),
-- Keys CloudTrail encrypts its log files with: it calls GenerateDataKey naming the trail.
trail_keys AS (
    SELECT DISTINCT key_arn
    FROM kms_events
    WHERE event_name = 'GenerateDataKey'
      AND json_extract_string(encryption_context, '$.aws:cloudtrail:arn') IS NOT NULL
)
SELECT o.identity_arn,
       o.source_ip,
       o.key_arn,
       o.account_id,
       o.event_time AS first_seen,
       o.event_time AS last_seen,
       1            AS event_count,
       '{"event":"' || o.event_name || '","at":"' || strftime(o.event_time, '%Y-%m-%d %H:%M:%S')
         || '","cloudtrail_key":' || CASE WHEN t.key_arn IS NULL THEN 'false' ELSE 'true' END
         || ',"previous":' || coalesce(o.previous, 'null') || ',"policy":' || o.policy || '}' AS detail
FROM ordered o
LEFT JOIN trail_keys t ON t.key_arn = o.key_arn
WHERE CAST($since AS TIMESTAMP) IS NULL OR o.event_time >= CAST($since AS TIMESTAMP)
ORDER BY o.event_time, o.event_id
