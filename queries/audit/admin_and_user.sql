-- id: admin_and_user
-- title: One principal can both administer and use a key
-- severity: low
-- description: A principal other than the account root that the key policy of a customer managed
--   key (latest audit) lets both administer it (kms:PutKeyPolicy or kms:ScheduleKeyDeletion) and
--   decrypt with it (kms:Decrypt): no separation of duties, since whoever can rewrite the policy or
--   delete the key should not also read what it protects. "*" and account-wide principals are left
--   to live_policy_exposure. A key administrator without use is the intended shape.
-- attack: none
SELECT a.principal AS identity_arn,
       NULL AS source_ip,
       k.key_arn,
       k.account_id,
       k.audited_at AS first_seen,
       k.audited_at AS last_seen,
       0 AS event_count,
       'administers the key (' || string_agg(DISTINCT CASE WHEN a.capability = 'admin' THEN a.detail END, ', ')
           || ') and decrypts with it (' || string_agg(DISTINCT CASE WHEN a.capability = 'use' AND list_contains(a.actions, 'kms:Decrypt') THEN a.detail END, ', ')
           || ') through its key policy' AS detail
FROM inventory_current_keys k
JOIN inventory_access a ON a.run_id = k.run_id AND a.key_arn = k.key_arn
WHERE a.via = 'key_policy'
  AND k.key_manager = 'CUSTOMER'
  AND a.principal <> '*'
  AND NOT regexp_matches(a.principal, '(:root|:\*)$')
  AND NOT regexp_matches(a.principal, '^\d{12}$')
GROUP BY k.key_arn, k.account_id, k.audited_at, a.principal
HAVING bool_or(a.capability = 'admin' AND (list_contains(a.actions, 'kms:PutKeyPolicy') OR list_contains(a.actions, 'kms:ScheduleKeyDeletion')))
   AND bool_or(a.capability = 'use' AND list_contains(a.actions, 'kms:Decrypt'))
ORDER BY k.key_arn, a.principal
