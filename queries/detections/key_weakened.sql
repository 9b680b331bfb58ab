-- id: key_weakened
-- title: Key rotation disabled, or key material imported from outside KMS
-- severity: medium
-- description: Successful DisableKeyRotation and ImportKeyMaterial calls made by a caller (not by
--   KMS itself). Turning rotation off keeps one key material in use indefinitely; imported (BYOK)
--   material exists outside KMS, can be set to expire, and is the first step of the pattern where
--   material a third party holds is imported and then deleted. EnableKeyRotation and KMS's own
--   RotateKey events are not findings. One finding per caller, key and operation.
-- attack: T1486
-- dialect: json_extract_string(j, '$.x') is json_extract_scalar(j, '$.x') in Trino; max_by is the same in both.
SELECT identity_arn,
       CASE WHEN count(DISTINCT source_ip) = 1 THEN min(source_ip) END AS source_ip,
       key_arn,
       min(account_id)                                                 AS account_id,
       min(event_time)                                                 AS first_seen,
       max(event_time)                                                 AS last_seen,
       count(*)                                                        AS event_count,
       event_name
         || CASE WHEN event_name = 'ImportKeyMaterial'
                 THEN coalesce(' (' || max_by(json_extract_string(request_parameters, '$.expirationModel'), event_time)
                               || coalesce(', valid to ' || max_by(json_extract_string(request_parameters, '$.validTo'), event_time), '') || ')', '')
                 ELSE '' END AS detail
FROM kms_events
WHERE event_name IN ('DisableKeyRotation', 'ImportKeyMaterial')
  AND error_code IS NULL
  AND coalesce(event_type, '') <> 'AwsServiceEvent'
  AND coalesce(identity_arn, '') NOT IN ('AWS Internal', 'kms.amazonaws.com')
  AND (CAST($since AS TIMESTAMP) IS NULL OR event_time >= CAST($since AS TIMESTAMP))
GROUP BY identity_arn, key_arn, event_name
ORDER BY first_seen, identity_arn, key_arn
