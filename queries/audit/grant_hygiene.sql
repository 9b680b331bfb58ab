-- id: grant_hygiene
-- title: A grant lets its grantee hand the key on, or names a principal that no longer exists
-- severity: medium
-- description: A grant of the latest audit that (1) includes CreateGrant with no constraint, so the
--   grantee can give any principal the key's use, made for a principal that is not an AWS service:
--   grants that a service makes for its own resources (the grantee or retiring principal a service
--   principal or a service-linked role, an EC2 infrastructure principal) are routine, and so is a
--   grant bound to an encryption context; or (2) names as grantee a role or user of the key's
--   account that the same audit's IAM read does not hold (deleted; a new one by that name would
--   inherit the grant), or an IAM unique id (AROA…, AIDA…) that matches nobody.
-- attack: T1098
WITH grants AS (
    SELECT k.run_id, k.key_arn, k.account_id, k.audited_at, g.grant_id, g.grantee_principal, g.retiring_principal, g.operations,
           g.constraints IS NULL OR CAST(g.constraints AS VARCHAR) IN ('null', '{}') AS unconstrained,
           coalesce(g.grantee_principal, '') AS grantee
    FROM inventory_current_keys k
    JOIN inventory_grants g ON g.run_id = k.run_id AND g.key_arn = k.key_arn
),
iam_read AS (
    SELECT run_id, account_id FROM inventory_iam WHERE status = 'ok'
),
problems AS (
    SELECT g.*, 'grant ' || g.grant_id || ' lets ' || g.grantee || ' create further grants (' || array_to_string(g.operations, ', ')
               || ') with no constraint' AS what
    FROM grants g
    WHERE list_contains(g.operations, 'CreateGrant')
      AND g.unconstrained
      AND NOT regexp_matches(g.grantee, '\.amazonaws\.com(\.cn)?$|:role/aws-service-role/|^\d{12}:aws:')
      AND NOT regexp_matches(coalesce(g.retiring_principal, ''), '\.amazonaws\.com(\.cn)?$')
    UNION ALL
    SELECT g.*, 'grant ' || g.grant_id || ' names ' || g.grantee || ', which IAM no longer holds (deleted?), for '
               || array_to_string(g.operations, ', ')
    FROM grants g
    JOIN iam_read i ON i.run_id = g.run_id AND i.account_id = g.account_id
    WHERE (regexp_matches(g.grantee, '^arn:[^:]+:iam::' || g.account_id || ':(role|user)/')
           AND NOT EXISTS (SELECT 1 FROM inventory_iam_entities e
                           WHERE e.run_id = g.run_id AND e.account_id = g.account_id
                             AND (e.arn = g.grantee
                                  OR (e.entity_type = regexp_extract(g.grantee, ':(role|user)/', 1) AND e.name = regexp_extract(g.grantee, '/([^/]+)$', 1)))))
       OR (regexp_matches(g.grantee, '^A(ROA|IDA)[A-Z0-9]{8,}$')
           AND NOT EXISTS (SELECT 1 FROM inventory_iam_entities e WHERE e.run_id = g.run_id AND e.unique_id = g.grantee))
)
SELECT p.grantee_principal AS identity_arn,
       NULL AS source_ip,
       p.key_arn,
       p.account_id,
       p.audited_at AS first_seen,
       p.audited_at AS last_seen,
       0 AS event_count,
       string_agg(p.what, '; ' ORDER BY p.what) AS detail
FROM problems p
GROUP BY p.key_arn, p.account_id, p.audited_at, p.grantee_principal, p.grant_id
ORDER BY p.key_arn, p.grant_id
