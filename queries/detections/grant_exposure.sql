-- id: grant_exposure
-- title: Grant gives an untrusted account use of a key
-- severity: high
-- description: Successful CreateGrant calls whose grantee principal or retiring principal is in an
--   account outside the trusted accounts (or cannot be tied to any account). Grants to AWS service
--   principals and to the key's own account are not findings. The SQL selects the grants; the grant
--   analyzer (src/kms/policy.ts) judges each one. One finding per grant.
-- attack: T1098, T1537
-- analyze: grant
-- dialect: on Athena, CAST(x AS VARCHAR) becomes format('%s', x) (src/athena/dialect.ts).
SELECT identity_arn,
       source_ip,
       key_arn,
       account_id,
       event_time                          AS first_seen,
       event_time                          AS last_seen,
       1                                   AS event_count,
       CAST(request_parameters AS VARCHAR) AS detail
FROM kms_events
WHERE event_name = 'CreateGrant'
  AND error_code IS NULL
  AND request_parameters IS NOT NULL
  AND (CAST($since AS TIMESTAMP) IS NULL OR event_time >= CAST($since AS TIMESTAMP))
ORDER BY event_time, event_id
