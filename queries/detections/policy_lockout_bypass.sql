-- id: policy_lockout_bypass
-- title: Key policy set with the policy lockout safety check bypassed
-- severity: high
-- description: Successful CreateKey, PutKeyPolicy and ReplicateKey calls with
--   bypassPolicyLockoutSafetyCheck true. KMS's safety check refuses a policy that would stop the
--   caller from changing it again; bypassing it can leave a key nobody in the account can manage
--   (only AWS Support can help) or is a step in locking the owner out. AWS advises against it. One
--   finding per call.
-- attack: T1531, T1222
-- dialect: json_extract_string as in key_loss.
SELECT identity_arn,
       source_ip,
       key_arn,
       account_id,
       event_time AS first_seen,
       event_time AS last_seen,
       1          AS event_count,
       event_name || ' with bypassPolicyLockoutSafetyCheck true'
         || CASE WHEN json_extract_string(request_parameters, '$.policy') IS NULL AND event_name <> 'PutKeyPolicy'
                 THEN ' (no policy given: the default key policy)' ELSE '' END AS detail
FROM kms_events
WHERE event_name IN ('CreateKey', 'PutKeyPolicy', 'ReplicateKey')
  AND error_code IS NULL
  AND lower(coalesce(json_extract_string(request_parameters, '$.bypassPolicyLockoutSafetyCheck'), 'false')) = 'true'
  AND (CAST($since AS TIMESTAMP) IS NULL OR event_time >= CAST($since AS TIMESTAMP))
ORDER BY event_time, event_id
