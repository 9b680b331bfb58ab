-- id: key_loss
-- title: Key disabled, scheduled for deletion, or its imported key material deleted
-- severity: high
-- description: Successful DisableKey, ScheduleKeyDeletion and DeleteImportedKeyMaterial calls made
--   by a caller (not by KMS itself: its own AwsServiceEvent records, such as DeleteKey at the end of
--   a deletion wait, are left out; expired_key_material reports DeleteExpiredKeyMaterial). Data
--   encrypted under the key cannot be decrypted while the key is disabled or without its material,
--   and never again once deleted. One finding per caller and burst (each call within
--   burst_minutes of the one before), whatever the keys: disabling a key and scheduling its
--   deletion, or scheduling the deletion of many keys at once, is one incident. $since reports only
--   bursts that end at or after it.
-- attack: T1485, T1490
-- params: burst_minutes=60
-- dialect: json_extract_string(j, '$.x') is json_extract_scalar(j, '$.x') in Trino; string_agg as in
--   new_source_ip.
WITH losses AS (
    SELECT event_id, identity_arn, source_ip, key_arn, account_id, event_time,
           event_name
             || CASE WHEN event_name = 'ScheduleKeyDeletion'
                     THEN ' (waiting period ' || coalesce(json_extract_string(request_parameters, '$.pendingWindowInDays'), '30')
                          || ' days' || coalesce(', deletion ' || json_extract_string(response_elements, '$.deletionDate'), '') || ')'
                     ELSE '' END AS what
    FROM kms_events
    WHERE event_name IN ('DisableKey', 'ScheduleKeyDeletion', 'DeleteImportedKeyMaterial')
      AND error_code IS NULL
      AND coalesce(event_type, '') <> 'AwsServiceEvent'
      AND coalesce(identity_arn, '') NOT IN ('AWS Internal', 'kms.amazonaws.com')
),
bursts AS (
    SELECT l.*,
           sum(CASE WHEN prev IS NULL OR date_diff('second', prev, event_time) > CAST($burst_minutes AS INTEGER) * 60 THEN 1 ELSE 0 END)
             OVER (PARTITION BY identity_arn ORDER BY event_time, event_id ROWS UNBOUNDED PRECEDING) AS burst
    FROM (SELECT x.*, lag(event_time) OVER (PARTITION BY identity_arn ORDER BY event_time, event_id) AS prev FROM losses x) AS l
)
SELECT identity_arn,
       CASE WHEN count(DISTINCT source_ip) = 1 THEN min(source_ip) END AS source_ip,
       CASE WHEN count(DISTINCT key_arn) = 1 THEN min(key_arn) END     AS key_arn,
       min(account_id)                                                 AS account_id,
       min(event_time)                                                 AS first_seen,
       max(event_time)                                                 AS last_seen,
       count(*)                                                        AS event_count,
       CASE WHEN count(DISTINCT coalesce(key_arn, '')) = 1
            THEN string_agg(DISTINCT what, '; ' ORDER BY what)
            ELSE CAST(count(DISTINCT coalesce(key_arn, '')) AS VARCHAR) || ' keys: '
                 || string_agg(DISTINCT what || ' of ' || coalesce(key_arn, '(unknown key)'), '; ' ORDER BY what || ' of ' || coalesce(key_arn, '(unknown key)'))
       END AS detail
FROM bursts
GROUP BY identity_arn, burst
HAVING CAST($since AS TIMESTAMP) IS NULL OR max(event_time) >= CAST($since AS TIMESTAMP)
ORDER BY first_seen, identity_arn, key_arn
