-- id: material_expiry
-- title: Imported key material expires soon, or has expired
-- severity: medium
-- description: A key with imported material (origin EXTERNAL, expiration model
--   KEY_MATERIAL_EXPIRES) whose material expires within `days` days of the latest audit: when it
--   expires KMS deletes it and the key becomes unusable until the material is imported again.
-- attack: T1485
-- params: days=30
SELECT NULL AS identity_arn,
       NULL AS source_ip,
       k.key_arn,
       k.account_id,
       k.audited_at AS first_seen,
       k.audited_at AS last_seen,
       0 AS event_count,
       CASE WHEN k.valid_to <= k.audited_at THEN 'imported key material expired on ' ELSE 'imported key material expires on ' END
           || strftime(k.valid_to, '%Y-%m-%d %H:%M:%S UTC')
           || ' (' || CAST(date_diff('day', k.audited_at, k.valid_to) AS VARCHAR) || ' days after the audit; key is '
           || coalesce(k.key_state, 'in an unknown state') || ')' AS detail
FROM inventory_current_keys k
WHERE k.origin = 'EXTERNAL'
  AND k.expiration_model = 'KEY_MATERIAL_EXPIRES'
  AND k.valid_to IS NOT NULL
  AND k.valid_to <= k.audited_at + to_days(CAST($days AS INTEGER))
  AND coalesce(k.key_state, '') NOT IN ('PendingDeletion', 'PendingReplicaDeletion')
ORDER BY k.valid_to, k.key_arn
