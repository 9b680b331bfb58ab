-- id: key_weakened
-- title: Key rotation disabled
-- severity: medium
-- description: Successful DisableKeyRotation calls made by a caller (not by KMS itself): turning
--   rotation off keeps one key material in use indefinitely. EnableKeyRotation and KMS's own
--   RotateKey events are not findings. Imported key material (ImportKeyMaterial) is judged by
--   ransom_key_setup, which tells a routine BYOK import (low) from material set to expire soon on a
--   key only its creator controls. One finding per caller and key.
-- attack: T1486
SELECT identity_arn,
       CASE WHEN count(DISTINCT source_ip) = 1 THEN min(source_ip) END AS source_ip,
       key_arn,
       min(account_id)                                                 AS account_id,
       min(event_time)                                                 AS first_seen,
       max(event_time)                                                 AS last_seen,
       count(*)                                                        AS event_count,
       event_name                                                      AS detail
FROM kms_events
WHERE event_name = 'DisableKeyRotation'
  AND error_code IS NULL
  AND coalesce(event_type, '') <> 'AwsServiceEvent'
  AND coalesce(identity_arn, '') NOT IN ('AWS Internal', 'kms.amazonaws.com')
  AND (CAST($since AS TIMESTAMP) IS NULL OR event_time >= CAST($since AS TIMESTAMP))
GROUP BY identity_arn, key_arn, event_name
ORDER BY first_seen, identity_arn, key_arn
