-- id: replica_policy_drift
-- title: A multi-Region replica key lets in more than its primary
-- severity: medium
-- description: A multi-Region replica key (DescribeKey's MultiRegionConfiguration, latest audit)
--   whose key policy gives a principal or account use or administration of the key that its
--   primary key's policy does not (KMS does not share key policies between related multi-Region
--   keys: a replica's policy can drift). Only where both policies were read; the primary may be in
--   another region, audited by its own run. A replica identical to its primary says nothing.
-- attack: T1098
WITH replicas AS (
    SELECT k.*, json_extract_string(k.metadata, '$.MultiRegionConfiguration.PrimaryKey.Arn') AS primary_arn
    FROM inventory_current_keys k
    WHERE json_extract_string(k.metadata, '$.MultiRegionConfiguration.MultiRegionKeyType') = 'REPLICA'
),
pairs AS (
    SELECT r.run_id, r.key_arn, r.account_id, r.audited_at, r.primary_arn, p.run_id AS primary_run
    FROM replicas r
    JOIN inventory_current_keys p ON p.key_arn = r.primary_arn
    WHERE EXISTS (SELECT 1 FROM inventory_policies x WHERE x.run_id = r.run_id AND x.key_arn = r.key_arn)
      AND EXISTS (SELECT 1 FROM inventory_policies x WHERE x.run_id = p.run_id AND x.key_arn = p.key_arn)
),
extra AS (
    SELECT DISTINCT r.*, a.principal, a.capability
    FROM pairs r
    JOIN inventory_access a ON a.run_id = r.run_id AND a.key_arn = r.key_arn AND a.via = 'key_policy'
    WHERE NOT EXISTS (SELECT 1 FROM inventory_access b
                      WHERE b.run_id = r.primary_run AND b.key_arn = r.primary_arn AND b.via = 'key_policy'
                        AND b.principal = a.principal AND b.capability = a.capability)
)
SELECT NULL AS identity_arn,
       NULL AS source_ip,
       key_arn,
       account_id,
       audited_at AS first_seen,
       audited_at AS last_seen,
       count(*) AS event_count,
       'the replica''s key policy lets in what its primary ' || primary_arn || ' does not: '
           || string_agg(principal || ' (' || capability || ')', ', ' ORDER BY principal, capability) AS detail
FROM extra
GROUP BY key_arn, account_id, audited_at, primary_arn
ORDER BY key_arn
