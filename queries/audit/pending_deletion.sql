-- id: pending_deletion
-- title: A key is scheduled for deletion
-- severity: high
-- description: A key in state PendingDeletion (or PendingReplicaDeletion) at the latest audit, with
--   the date KMS will delete it: after that date, whatever it encrypted cannot be decrypted.
--   CancelKeyDeletion before then keeps it.
-- attack: T1485
SELECT NULL AS identity_arn,
       NULL AS source_ip,
       k.key_arn,
       k.account_id,
       k.audited_at AS first_seen,
       k.audited_at AS last_seen,
       0 AS event_count,
       k.key_state || ': KMS deletes the key on ' || coalesce(strftime(k.deletion_date, '%Y-%m-%d %H:%M:%S UTC'), 'an unknown date')
           || coalesce(' (' || CAST(date_diff('day', k.audited_at, k.deletion_date) AS VARCHAR) || ' days after the audit)', '')
           || coalesce(' (aliases: ' || (SELECT string_agg(a.alias_name, ', ' ORDER BY a.alias_name) FROM inventory_aliases a
                                         WHERE a.run_id = k.run_id AND a.target_key_arn = k.key_arn) || ')', '') AS detail
FROM inventory_current_keys k
WHERE k.key_state IN ('PendingDeletion', 'PendingReplicaDeletion')
ORDER BY k.deletion_date, k.key_arn
