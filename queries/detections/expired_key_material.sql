-- id: expired_key_material
-- title: KMS deleted a key's imported key material because it expired: the key is unusable
-- severity: high
-- description: DeleteExpiredKeyMaterial is the event KMS itself logs when imported (BYOK) key
--   material reaches the expiry set at import (validTo). From that moment the key cannot encrypt
--   or decrypt until the same material is imported again; if nobody kept it, what was encrypted
--   under the key is lost. Other rules leave KMS's own events out; this one is about exactly that
--   event. The finding's caller is KMS itself; the detail names who imported the material. One
--   finding per key and expiry, with when the material was imported, by whom, and the
--   callers that used the key in the lookback_days before. $since reports only expiries at or
--   after it.
-- attack: T1485
-- params: lookback_days=30
-- dialect: json_extract_string as in key_loss; to_days(n) is n * INTERVAL '1' DAY in Trino.
WITH expired AS (
    SELECT event_id, identity_arn, key_arn, account_id, event_time, source_ip
    FROM kms_events
    WHERE event_name = 'DeleteExpiredKeyMaterial'
      AND key_arn IS NOT NULL
),
imported AS (
    SELECT x.event_id,
           max(i.event_time)                                                          AS imported_at,
           max_by(i.identity_arn, i.event_time)                                       AS imported_by,
           max_by(json_extract_string(i.request_parameters, '$.validTo'), i.event_time) AS valid_to
    FROM expired x
    JOIN kms_events i
      ON i.key_arn = x.key_arn AND i.event_name = 'ImportKeyMaterial' AND i.error_code IS NULL AND i.event_time <= x.event_time
    GROUP BY x.event_id
),
used AS (
    SELECT x.event_id, count(*) AS calls, count(DISTINCT u.identity_arn) AS callers
    FROM expired x
    JOIN kms_events u
      ON u.key_arn = x.key_arn
     AND u.event_time < x.event_time
     AND u.event_time >= x.event_time - to_days(CAST($lookback_days AS INTEGER))
     AND coalesce(u.event_type, '') <> 'AwsServiceEvent'
     AND u.event_name IN ('Encrypt', 'Decrypt', 'ReEncrypt', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext',
                          'GenerateDataKeyPair', 'GenerateDataKeyPairWithoutPlaintext', 'Sign', 'Verify', 'GenerateMac', 'VerifyMac')
    GROUP BY x.event_id
)
SELECT x.identity_arn,
       x.source_ip,
       x.key_arn,
       x.account_id,
       x.event_time                      AS first_seen,
       x.event_time                      AS last_seen,
       1                                 AS event_count,
       'KMS deleted the expired imported key material; the key cannot be used until it is imported again'
         || coalesce(' (imported ' || strftime(i.imported_at, '%Y-%m-%d %H:%M:%S') || ' UTC by ' || i.imported_by
                     || coalesce(', valid to ' || i.valid_to, '') || ')', '')
         || CASE WHEN u.calls > 0 THEN '; used by ' || CAST(u.callers AS VARCHAR) || ' caller(s) in '
                                       || CAST(u.calls AS VARCHAR) || ' calls in the ' || CAST(CAST($lookback_days AS INTEGER) AS VARCHAR) || ' days before'
                 ELSE '; not used in the ' || CAST(CAST($lookback_days AS INTEGER) AS VARCHAR) || ' days before' END AS detail
FROM expired x
LEFT JOIN imported i ON i.event_id = x.event_id
LEFT JOIN used u ON u.event_id = x.event_id
WHERE CAST($since AS TIMESTAMP) IS NULL OR x.event_time >= CAST($since AS TIMESTAMP)
ORDER BY x.event_time, x.key_arn
