-- id: iam_wildcard_key_access
-- title: An IAM policy allows decryption with every KMS key
-- severity: medium
-- description: An inline or customer managed IAM policy (latest IAM read of each audited account)
--   with an Allow statement that grants kms:Decrypt or kms:ReEncryptFrom (by name, by a wildcard
--   such as kms:*, kms:Decrypt* or "*", or by a NotAction that leaves them out) on every key:
--   Resource "*" or a key pattern such as arn:aws:kms:*:*:key/*, or a NotResource. Security Hub
--   KMS.1 (managed) and KMS.2 (inline). AWS managed policies are left out (AWS writes them).
--   Conditions are named but do not clear the statement: kms:ViaService does not say who may call.
--   One finding per policy, naming every user, role and group member it reaches.
-- attack: none
WITH current_iam AS (
    SELECT account_id, max(run_id) AS run_id FROM inventory_iam WHERE status = 'ok' GROUP BY account_id
),
-- Each decrypting action an Allow statement grants.
decrypting AS (
    SELECT s.run_id, s.account_id, s.policy_key, s.statement_index, a.action
    FROM inventory_iam_statements s
    JOIN current_iam c ON c.run_id = s.run_id AND c.account_id = s.account_id
    CROSS JOIN (VALUES ('kms:Decrypt'), ('kms:ReEncryptFrom')) a(action)
    WHERE lower(s.effect) = 'allow'
      AND CASE WHEN s.actions IS NOT NULL
               THEN EXISTS (SELECT 1 FROM unnest(s.actions) t(p) WHERE lower(a.action) LIKE replace(replace(lower(trim(p)), '*', '%'), '?', '_'))
               ELSE NOT EXISTS (SELECT 1 FROM unnest(s.not_actions) t(p) WHERE lower(a.action) LIKE replace(replace(lower(trim(p)), '*', '%'), '?', '_')) END
),
judged AS (
    SELECT s.*,
           (SELECT string_agg(d.action, ', ' ORDER BY d.action) FROM decrypting d
            WHERE d.run_id = s.run_id AND d.account_id = s.account_id AND d.policy_key = s.policy_key AND d.statement_index = s.statement_index) AS decrypts,
           CASE WHEN s.resources IS NOT NULL
                THEN (SELECT string_agg(r, ', ') FROM unnest(s.resources) t(r) WHERE r = '*' OR regexp_matches(r, '^arn:[^:]+:kms:[^:]*:[^:]*:(key/)?\*$'))
                WHEN NOT list_contains(s.not_resources, '*') THEN 'NotResource ' || array_to_string(s.not_resources, ', ') END AS every_key
    FROM inventory_iam_statements s
    JOIN current_iam c ON c.run_id = s.run_id AND c.account_id = s.account_id
    WHERE lower(s.effect) = 'allow'
),
flagged AS (
    SELECT j.run_id, j.account_id, j.policy_key, p.policy_kind, p.policy_name, p.policy_arn,
           string_agg('Statement[' || CAST(j.statement_index AS VARCHAR) || ']' || coalesce(' "' || j.sid || '"', '') || ' allows '
                      || j.decrypts || ' on ' || j.every_key || coalesce(' when ' || j.conditions, ''), '; '
                      ORDER BY j.statement_index) AS statements
    FROM judged j
    JOIN inventory_iam_policies p ON p.run_id = j.run_id AND p.account_id = j.account_id AND p.policy_key = j.policy_key
    WHERE j.decrypts IS NOT NULL AND j.every_key IS NOT NULL AND p.policy_kind IN ('inline', 'customer_managed')
    GROUP BY ALL
),
-- Who a policy reaches: the users and roles it is attached to, and the members of its groups.
reach AS (
    SELECT a.run_id, a.policy_key, e.arn AS principal
    FROM inventory_iam_attachments a
    JOIN inventory_iam_entities e ON e.run_id = a.run_id AND e.arn = a.entity_arn
    WHERE e.entity_type <> 'group'
    UNION ALL
    SELECT a.run_id, a.policy_key, u.arn || ' (group ' || g.name || ')'
    FROM inventory_iam_attachments a
    JOIN inventory_iam_entities g ON g.run_id = a.run_id AND g.arn = a.entity_arn AND g.entity_type = 'group'
    JOIN inventory_iam_entities u ON u.run_id = a.run_id AND u.account_id = g.account_id AND u.entity_type = 'user' AND list_contains(u.groups, g.name)
)
SELECT NULL AS identity_arn,
       NULL AS source_ip,
       NULL AS key_arn,
       f.account_id,
       r.started_at AS first_seen,
       r.started_at AS last_seen,
       (SELECT count(DISTINCT x.principal) FROM reach x WHERE x.run_id = f.run_id AND x.policy_key = f.policy_key) AS event_count,
       replace(f.policy_kind, '_', ' ') || ' policy ' || f.policy_name || coalesce(' (' || f.policy_arn || ')', '') || ': ' || f.statements
           || '; reaches: ' || coalesce((SELECT string_agg(DISTINCT x.principal, ', ' ORDER BY x.principal) FROM reach x
                                         WHERE x.run_id = f.run_id AND x.policy_key = f.policy_key), 'nobody (attached to no user or role)') AS detail
FROM flagged f
JOIN inventory_runs r ON r.run_id = f.run_id
ORDER BY f.account_id, f.policy_key
