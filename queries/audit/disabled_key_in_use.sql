-- id: disabled_key_in_use
-- title: A key that is not enabled is still being called
-- severity: medium
-- description: A key that the latest audit found Disabled, PendingDeletion, PendingImport or
--   Unavailable, and that CloudTrail shows callers still trying to use in the days before the
--   audit: calls that failed with DisabledException or KMSInvalidStateException. Something that
--   depends on the key is breaking. One finding per key and caller.
-- params: days=7
SELECT e.identity_arn,
       any_value(e.source_ip) AS source_ip,
       k.key_arn,
       k.account_id,
       min(e.event_time) AS first_seen,
       max(e.event_time) AS last_seen,
       count(*) AS event_count,
       'key is ' || k.key_state || '; ' || CAST(count(*) AS VARCHAR) || ' failed call(s): '
           || string_agg(DISTINCT e.event_name || ' ' || e.error_code, ', ') AS detail
FROM inventory_current_keys k
JOIN kms_events e ON e.key_arn = k.key_arn
WHERE k.key_state IN ('Disabled', 'PendingDeletion', 'PendingImport', 'Unavailable')
  AND e.error_code IN ('DisabledException', 'KMSInvalidStateException')
  AND e.event_time >= k.audited_at - to_days(CAST($days AS INTEGER))
GROUP BY k.key_arn, k.account_id, k.key_state, e.identity_arn
ORDER BY k.key_arn, e.identity_arn
