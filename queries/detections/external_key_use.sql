-- id: external_key_use
-- title: Data encrypted with a key owned by an untrusted account
-- severity: high
-- description: Encrypt, ReEncrypt and GenerateDataKey* calls with a key whose account is outside
--   the trusted accounts: the KMS ransomware pattern, where data is re-encrypted under a key the
--   attacker controls (and can then delete). For ReEncrypt the destination key counts (a bare key
--   id or alias in destinationKeyId is a key of the caller's own account). One finding per caller
--   and key.
-- attack: T1486
-- dialect: json_extract_string(j, '$.x') is json_extract_scalar(j, '$.x') in Trino; string_agg as
--   in new_source_ip.
WITH uses AS (
    SELECT e.*,
           CASE WHEN event_name = 'ReEncrypt'
                THEN coalesce(
                       nullif(regexp_extract(json_extract_string(request_parameters, '$.destinationKeyId'),
                                             '^arn:[^:]+:kms:[^:]*:([0-9]{12}):', 1), ''),
                       principal_account)
                ELSE key_account END AS target_account,
           CASE WHEN event_name = 'ReEncrypt'
                 AND regexp_matches(coalesce(json_extract_string(request_parameters, '$.destinationKeyId'), ''), '^arn:[^:]+:kms:')
                THEN json_extract_string(request_parameters, '$.destinationKeyId')
                ELSE key_arn END AS target_key
    FROM kms_events e
    WHERE event_name IN ('Encrypt', 'ReEncrypt', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext',
                         'GenerateDataKeyPair', 'GenerateDataKeyPairWithoutPlaintext')
      AND (CAST($since AS TIMESTAMP) IS NULL OR event_time >= CAST($since AS TIMESTAMP))
)
SELECT identity_arn,
       CASE WHEN count(DISTINCT source_ip) = 1 THEN min(source_ip) END AS source_ip,
       target_key                                                      AS key_arn,
       min(account_id)                                                 AS account_id,
       min(event_time)                                                 AS first_seen,
       max(event_time)                                                 AS last_seen,
       count(*)                                                        AS event_count,
       string_agg(DISTINCT event_name, ', ' ORDER BY event_name) || ' with a key of account ' || target_account
         || ', which is not trusted'
         || CASE WHEN count(error_code) > 0 THEN ' (' || CAST(count(error_code) AS VARCHAR) || ' failed)' ELSE '' END AS detail
FROM uses
WHERE target_account IS NOT NULL
  AND strpos(',' || $trusted_accounts || ',', ',' || target_account || ',') = 0
GROUP BY identity_arn, target_key, target_account
ORDER BY first_seen, identity_arn, key_arn
