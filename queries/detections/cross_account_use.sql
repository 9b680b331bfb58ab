-- id: cross_account_use
-- title: A principal of an untrusted account uses a key of another account
-- severity: high
-- description: KMS calls whose caller's account (userIdentity.accountId) is not the key's account
--   and is not a trusted account: someone outside the zone of trust using, or trying to use, one
--   of the keys. One finding per caller and key, with the operations and how many were refused.
--   Trusted accounts default to the accounts whose trails are in the data (recipientAccountId).
-- attack: T1078.004
-- dialect: regexp_matches(s, p) is regexp_like(s, p) in Trino; string_agg as in new_source_ip.
SELECT identity_arn,
       CASE WHEN count(DISTINCT source_ip) = 1 THEN min(source_ip) END AS source_ip,
       key_arn,
       min(account_id)                                                 AS account_id,
       min(event_time)                                                 AS first_seen,
       max(event_time)                                                 AS last_seen,
       count(*)                                                        AS event_count,
       'account ' || principal_account || ' used a key of account ' || key_account || ': '
         || string_agg(DISTINCT event_name, ', ' ORDER BY event_name)
         || CASE WHEN count(error_code) > 0 THEN ' (' || CAST(count(error_code) AS VARCHAR) || ' refused)' ELSE '' END AS detail
FROM kms_events
WHERE principal_account IS NOT NULL
  AND key_account IS NOT NULL
  AND regexp_matches(principal_account, '^[0-9]{12}$')
  AND principal_account <> key_account
  AND coalesce(principal_type, '') <> 'AWSService'
  AND strpos(',' || $trusted_accounts || ',', ',' || principal_account || ',') = 0
  AND (CAST($since AS TIMESTAMP) IS NULL OR event_time >= CAST($since AS TIMESTAMP))
GROUP BY identity_arn, key_arn, principal_account, key_account
ORDER BY first_seen, identity_arn, key_arn
