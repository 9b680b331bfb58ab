-- id: live_policy_exposure
-- title: The key policy opens the key to everyone or to an account outside the zone of trust
-- severity: high
-- description: The current key policy (GetKeyPolicy, latest audit) of each key, judged by
--   src/kms/policy.ts as for policies found in CloudTrail: "*" or an Allow with NotPrincipal
--   without a condition that narrows it to trusted accounts or the organization, or a named
--   account outside the trusted accounts. A key's own account is always trusted.
-- attack: T1098
-- analyze: key_policy
SELECT NULL AS identity_arn,
       NULL AS source_ip,
       k.key_arn,
       k.account_id,
       k.audited_at AS first_seen,
       k.audited_at AS last_seen,
       0 AS event_count,
       p.policy AS detail
FROM inventory_current_keys k
JOIN inventory_policies p ON p.run_id = k.run_id AND p.key_arn = k.key_arn
ORDER BY k.key_arn
