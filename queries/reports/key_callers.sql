-- section: key_callers
-- title: Callers per key
-- description: Calls per key and caller (identity_arn), with the caller's errors, source IPs,
--   cryptographic calls and first and last call on that key.
SELECT key_arn,
       identity_arn,
       count(*)                                                        AS calls,
       count(*) FILTER (WHERE event_name IN ('Encrypt', 'Decrypt', 'ReEncrypt', 'Sign', 'Verify', 'GenerateMac', 'VerifyMac',
                                             'DeriveSharedSecret') OR event_name LIKE 'GenerateDataKey%') AS crypto_calls,
       count(*) FILTER (WHERE error_code IS NOT NULL)                  AS errors,
       count(DISTINCT source_ip)                                       AS source_ips,
       min(event_time)                                                 AS first_seen,
       max(event_time)                                                 AS last_seen
FROM kms_events
WHERE key_arn IS NOT NULL
  AND (CAST($since AS TIMESTAMP) IS NULL OR event_time >= CAST($since AS TIMESTAMP))
  AND (CAST($until AS TIMESTAMP) IS NULL OR event_time < CAST($until AS TIMESTAMP))
  AND ($account IS NULL OR account_id = $account)
GROUP BY key_arn, identity_arn
ORDER BY key_arn, calls DESC, identity_arn
