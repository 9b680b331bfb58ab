-- id: key_loss
-- title: Key disabled, scheduled for deletion, or its imported key material deleted
-- severity: high
-- description: Successful DisableKey, ScheduleKeyDeletion and DeleteImportedKeyMaterial calls made
--   by a caller (not by KMS itself: its own AwsServiceEvent records, such as DeleteKey at the end of
--   a deletion wait, are left out; expired_key_material reports DeleteExpiredKeyMaterial). Data
--   encrypted under the key cannot be decrypted while the key is disabled or without its material,
--   and never again once deleted.
--   One finding per caller, key and operation.
-- attack: T1485, T1490
-- dialect: json_extract_string(j, '$.x') is json_extract_scalar(j, '$.x') in Trino; max_by is the same in both.
SELECT identity_arn,
       CASE WHEN count(DISTINCT source_ip) = 1 THEN min(source_ip) END AS source_ip,
       key_arn,
       min(account_id)                                                 AS account_id,
       min(event_time)                                                 AS first_seen,
       max(event_time)                                                 AS last_seen,
       count(*)                                                        AS event_count,
       event_name
         || CASE WHEN event_name = 'ScheduleKeyDeletion'
                 THEN ' (waiting period ' || coalesce(max_by(json_extract_string(request_parameters, '$.pendingWindowInDays'), event_time), '30')
                      || ' days' || coalesce(', deletion ' || max_by(json_extract_string(response_elements, '$.deletionDate'), event_time), '') || ')'
                 ELSE '' END AS detail
FROM kms_events
WHERE event_name IN ('DisableKey', 'ScheduleKeyDeletion', 'DeleteImportedKeyMaterial')
  AND error_code IS NULL
  AND coalesce(event_type, '') <> 'AwsServiceEvent'
  AND coalesce(identity_arn, '') NOT IN ('AWS Internal', 'kms.amazonaws.com')
  AND (CAST($since AS TIMESTAMP) IS NULL OR event_time >= CAST($since AS TIMESTAMP))
GROUP BY identity_arn, key_arn, event_name
ORDER BY first_seen, identity_arn, key_arn
