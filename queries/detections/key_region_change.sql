-- id: key_region_change
-- title: Multi-Region key replicated into a region the account does not use, or its primary Region moved
-- severity: medium
-- description: Successful ReplicateKey calls whose replica region had no earlier KMS activity in
--   the key's account (keys, calls, anything but the replica itself): a copy of the key material
--   where nobody looks, with its own key policy; and every successful UpdatePrimaryRegion, which
--   moves the key's primary (the one that can replicate and synchronize) to another region. KMS
--   logs UpdatePrimaryRegion in both regions under one request id: one finding per request. $since
--   reports only calls at or after it.
-- attack: T1535, T1098
-- dialect: json_extract_string as in key_loss; split_part is the same in Trino.
WITH replications AS (
    SELECT r.event_id, r.identity_arn, r.source_ip, r.key_arn, r.account_id, r.aws_region, r.event_time,
           json_extract_string(r.request_parameters, '$.replicaRegion') AS replica_region,
           coalesce(json_extract_string(r.response_elements, '$.replicaKeyMetadata.arn'),
                    'arn:aws:kms:' || json_extract_string(r.request_parameters, '$.replicaRegion') || ':'
                      || coalesce(r.key_account, r.account_id) || ':key/' || split_part(r.key_arn, '/', 2)) AS replica_arn
    FROM kms_events r
    WHERE r.event_name = 'ReplicateKey'
      AND r.error_code IS NULL
      AND json_extract_string(r.request_parameters, '$.replicaRegion') IS NOT NULL
),
new_regions AS (
    SELECT r.*
    FROM replications r
    WHERE NOT EXISTS (SELECT 1 FROM kms_events o
                      WHERE o.account_id = r.account_id
                        AND o.aws_region = r.replica_region
                        AND o.event_time < r.event_time
                        AND coalesce(o.key_arn, '') <> r.replica_arn)
),
moves AS (
    SELECT coalesce(request_id, event_id) AS request,
           min(identity_arn) AS identity_arn,
           CASE WHEN count(DISTINCT source_ip) = 1 THEN min(source_ip) END AS source_ip,
           coalesce(min(CASE WHEN aws_region <> json_extract_string(request_parameters, '$.primaryRegion') THEN key_arn END), min(key_arn)) AS key_arn,
           min(account_id) AS account_id,
           min(event_time) AS event_time,
           min(json_extract_string(request_parameters, '$.primaryRegion')) AS new_primary,
           min(CASE WHEN aws_region <> json_extract_string(request_parameters, '$.primaryRegion') THEN aws_region END) AS old_primary
    FROM kms_events
    WHERE event_name = 'UpdatePrimaryRegion'
      AND error_code IS NULL
    GROUP BY coalesce(request_id, event_id)
)
SELECT identity_arn, source_ip, key_arn, account_id, event_time AS first_seen, event_time AS last_seen, 1 AS event_count,
       'ReplicateKey created ' || replica_arn || ' in ' || replica_region
         || ', a region with no earlier KMS activity in account ' || account_id AS detail
FROM new_regions
WHERE CAST($since AS TIMESTAMP) IS NULL OR event_time >= CAST($since AS TIMESTAMP)
UNION ALL
SELECT m.identity_arn, m.source_ip, m.key_arn, m.account_id, m.event_time, m.event_time, 1,
       'UpdatePrimaryRegion moved the primary key' || coalesce(' from ' || m.old_primary, '') || ' to ' || coalesce(m.new_primary, '(unknown)')
FROM moves m
WHERE CAST($since AS TIMESTAMP) IS NULL OR m.event_time >= CAST($since AS TIMESTAMP)
ORDER BY first_seen, key_arn
