-- id: disabled_key_in_use
-- title: A key that is not enabled is still being called
-- severity: medium
-- description: A key that the latest audit found Disabled, PendingDeletion, PendingImport or
--   Unavailable, and that CloudTrail shows callers still trying to use in the days before the
--   audit: calls that failed with DisabledException or KMSInvalidStateException, naming the key by
--   its ARN or id, or by one of its aliases (in the key's account and region). Something that
--   depends on the key is breaking. One finding per key and caller.
-- attack: T1485, T1489
-- params: days=7
WITH stopped AS (
    SELECT run_id, key_arn, account_id, aws_region, key_state, audited_at
    FROM inventory_current_keys
    WHERE key_state IN ('Disabled', 'PendingDeletion', 'PendingImport', 'Unavailable')
),
-- The names a caller may give a stopped key: its aliases, by name or ARN (the key itself is key_arn).
alias_names AS (
    SELECT s.key_arn, a.alias_name AS name FROM stopped s
    JOIN inventory_aliases a ON a.run_id = s.run_id AND a.target_key_arn = s.key_arn
    UNION ALL
    SELECT s.key_arn, a.alias_arn FROM stopped s
    JOIN inventory_aliases a ON a.run_id = s.run_id AND a.target_key_arn = s.key_arn
    WHERE a.alias_arn IS NOT NULL
),
failed AS (
    SELECT * FROM kms_events WHERE error_code IN ('DisabledException', 'KMSInvalidStateException')
),
calls AS (
    SELECT f.key_arn AS called_key, false AS by_alias, f.* EXCLUDE (key_arn) FROM failed f WHERE f.key_arn IS NOT NULL
    UNION ALL
    SELECT n.key_arn AS called_key, true AS by_alias, f.* EXCLUDE (key_arn) FROM failed f
    JOIN alias_names n ON n.name = json_extract_string(f.request_parameters, '$.keyId')
    WHERE f.key_arn IS NULL
)
SELECT c.identity_arn,
       any_value(c.source_ip) AS source_ip,
       s.key_arn,
       s.account_id,
       min(c.event_time) AS first_seen,
       max(c.event_time) AS last_seen,
       count(*) AS event_count,
       'key is ' || s.key_state || '; ' || CAST(count(*) AS VARCHAR) || ' failed call(s): '
           || string_agg(DISTINCT c.event_name || ' ' || c.error_code, ', ' ORDER BY c.event_name || ' ' || c.error_code) AS detail
FROM stopped s
JOIN calls c ON c.called_key = s.key_arn
WHERE c.event_time >= s.audited_at - to_days(CAST($days AS INTEGER))
  -- An alias name means a key in the caller's own account and region.
  AND (NOT c.by_alias OR (c.account_id = s.account_id AND c.aws_region = s.aws_region))
GROUP BY s.key_arn, s.account_id, s.key_state, c.identity_arn
ORDER BY s.key_arn, c.identity_arn
