-- id: key_policy_exposure
-- title: Key policy opens the key to everyone or to an untrusted account
-- severity: high
-- description: Successful CreateKey and PutKeyPolicy calls whose policy document allows Principal
--   "*" (or {"AWS": "*"}) without a condition that limits it to the trusted accounts or the
--   organization (kms:CallerAccount, aws:PrincipalAccount, aws:PrincipalOrgID, ...; kms:ViaService
--   alone does not), or names a principal of an untrusted account. The SQL selects the policy
--   changes; the key_policy analyzer (src/kms/policy.ts) judges each document with the trusted
--   accounts, the key's own account and the trusted organizations, and keeps the exposures. One
--   finding per policy change.
-- attack: T1098, T1537
-- analyze: key_policy
-- dialect: json_extract_string(j, '$.policy') is json_extract_scalar(j, '$.policy') in Trino, which
--   gives NULL when the policy was logged as a JSON object rather than a string: use
--   coalesce(json_extract_scalar(j, '$.policy'), json_format(json_extract(j, '$.policy'))).
SELECT identity_arn,
       source_ip,
       key_arn,
       account_id,
       event_time                                           AS first_seen,
       event_time                                           AS last_seen,
       1                                                    AS event_count,
       json_extract_string(request_parameters, '$.policy')  AS detail
FROM kms_events
WHERE event_name IN ('CreateKey', 'PutKeyPolicy')
  AND error_code IS NULL
  AND json_extract_string(request_parameters, '$.policy') IS NOT NULL
  AND (CAST($since AS TIMESTAMP) IS NULL OR event_time >= CAST($since AS TIMESTAMP))
ORDER BY event_time, event_id
