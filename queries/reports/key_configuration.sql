-- section: key_configuration
-- title: Key configuration (live audit)
-- description: Every key as the latest keytrail keys audit of its account and region read it
--   through the KMS API, whether or not the trail shows it used: state, who manages it, spec and
--   origin, rotation, pending deletion, imported material expiry, aliases, grants, tags, the
--   calls that could not be read, who can use it (can_use: the principals the key policy, IAM
--   policies and grants let encrypt, decrypt or generate data keys, as keytrail keys access) and who
--   did (used_by: the callers of successful cryptographic calls in the period, with their count).
--   Empty when the database holds no audit.
SELECT k.key_arn,
       k.account_id,
       k.aws_region,
       (SELECT string_agg(a.alias_name, ', ' ORDER BY a.alias_name) FROM inventory_aliases a
        WHERE a.run_id = k.run_id AND a.target_key_arn = k.key_arn) AS aliases,
       k.key_state,
       k.key_manager,
       k.key_spec,
       k.origin,
       CASE WHEN r.key_arn IS NULL THEN NULL
            WHEN NOT r.rotation_supported THEN 'n/a'
            WHEN r.rotation_enabled THEN 'on (' || CAST(r.rotation_period_days AS VARCHAR) || ' days)'
            ELSE 'off' END AS rotation,
       k.deletion_date,
       k.valid_to AS material_expires,
       (SELECT count(*) FROM inventory_grants g WHERE g.run_id = k.run_id AND g.key_arn = k.key_arn) AS grants,
       (SELECT string_agg(t.tag_key || '=' || coalesce(t.tag_value, ''), ', ' ORDER BY t.tag_key) FROM inventory_tags t
        WHERE t.run_id = k.run_id AND t.key_arn = k.key_arn) AS tags,
       (SELECT string_agg(e.operation || ' ' || coalesce(e.error_code, ''), ', ' ORDER BY e.operation) FROM inventory_errors e
        WHERE e.run_id = k.run_id AND e.key_arn = k.key_arn) AS unreadable,
       (SELECT string_agg(x.principal || ' (' || x.via || ')', ', ' ORDER BY x.principal)
        FROM (SELECT a.principal, string_agg(DISTINCT a.via, '+' ORDER BY a.via) AS via FROM inventory_access a
              WHERE a.run_id = k.run_id AND a.key_arn = k.key_arn AND a.capability = 'use' GROUP BY a.principal) x) AS can_use,
       (SELECT string_agg(u.identity_arn || ' (' || CAST(u.calls AS VARCHAR) || ')', ', ' ORDER BY u.rank)
        FROM (SELECT e.identity_arn, count(*) AS calls, row_number() OVER (ORDER BY count(*) DESC, e.identity_arn) AS rank FROM kms_events e
              WHERE e.key_arn = k.key_arn AND e.error_code IS NULL AND e.identity_arn IS NOT NULL
                AND e.event_name IN ('Encrypt', 'Decrypt', 'ReEncrypt', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext',
                                     'GenerateDataKeyPair', 'GenerateDataKeyPairWithoutPlaintext')
                AND ($since IS NULL OR e.event_time >= CAST($since AS TIMESTAMP))
                AND ($until IS NULL OR e.event_time < CAST($until AS TIMESTAMP))
              GROUP BY e.identity_arn) u) AS used_by,
       k.audited_at
FROM inventory_current_keys k
LEFT JOIN inventory_rotation r ON r.run_id = k.run_id AND r.key_arn = k.key_arn
WHERE $account IS NULL OR k.account_id = $account
ORDER BY k.account_id, k.aws_region, k.key_arn
