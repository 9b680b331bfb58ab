-- id: rotation_off
-- title: Automatic key rotation is off on a key that can be rotated
-- severity: medium
-- description: An enabled, customer managed, symmetric encryption key with key material from KMS
--   (origin AWS_KMS) whose GetKeyRotationStatus says rotation is off. Asymmetric, HMAC and
--   imported keys and keys in custom key stores cannot be rotated automatically (KMS answers
--   UnsupportedOperationException) and AWS managed keys rotate themselves: no finding.
-- attack: T1562
SELECT NULL AS identity_arn,
       NULL AS source_ip,
       k.key_arn,
       k.account_id,
       k.audited_at AS first_seen,
       k.audited_at AS last_seen,
       0 AS event_count,
       'automatic rotation is off'
           || coalesce(' (aliases: ' || (SELECT string_agg(a.alias_name, ', ' ORDER BY a.alias_name) FROM inventory_aliases a
                                         WHERE a.run_id = k.run_id AND a.target_key_arn = k.key_arn) || ')', '') AS detail
FROM inventory_current_keys k
JOIN inventory_rotation r ON r.run_id = k.run_id AND r.key_arn = k.key_arn
WHERE k.key_state = 'Enabled'
  AND k.key_manager = 'CUSTOMER'
  AND k.key_spec = 'SYMMETRIC_DEFAULT'
  AND k.key_usage = 'ENCRYPT_DECRYPT'
  AND k.origin = 'AWS_KMS'
  AND r.rotation_supported
  AND r.rotation_enabled = false
ORDER BY k.key_arn
