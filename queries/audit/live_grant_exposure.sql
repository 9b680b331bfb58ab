-- id: live_grant_exposure
-- title: A grant gives a principal outside the zone of trust the use of a key
-- severity: high
-- description: Each grant of the latest audit (ListGrants) whose grantee or retiring principal
--   belongs to an account outside the trusted accounts (the key's own account is trusted; AWS
--   service principals are not accounts). identity_arn is the grantee.
-- attack: T1098
-- analyze: grant
SELECT g.grantee_principal AS identity_arn,
       NULL AS source_ip,
       k.key_arn,
       k.account_id,
       k.audited_at AS first_seen,
       k.audited_at AS last_seen,
       0 AS event_count,
       json_object('keyId', k.key_arn, 'grantId', g.grant_id, 'granteePrincipal', g.grantee_principal,
                   'retiringPrincipal', g.retiring_principal, 'operations', g.operations) AS detail
FROM inventory_current_keys k
JOIN inventory_grants g ON g.run_id = k.run_id AND g.key_arn = k.key_arn
ORDER BY k.key_arn, g.grant_id
