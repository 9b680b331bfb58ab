-- id: trail_changed
-- title: Trail delivery changed: its bucket, KMS key or organization setting
-- severity: medium
-- description: Successful UpdateTrail (or UpdateEventDataStore) that sets where the logs go
--   (s3BucketName, s3KeyPrefix), the KMS key that encrypts them (kmsKeyId), or whether the trail
--   covers the organization or every region (isOrganizationTrail, isMultiRegionTrail,
--   organizationEnabled, multiRegionEnabled): logs sent to a bucket an attacker reads, or under a
--   key they control, or no longer covering accounts and regions. An UpdateTrail that only changes
--   the SNS topic or CloudWatch Logs delivery is not a finding. One finding per call.
-- attack: T1562.008
-- dialect: json_extract_string translates.
WITH changed AS (
    SELECT *,
           concat_ws(', ',
             CASE WHEN json_extract_string(request_parameters, '$.s3BucketName') IS NOT NULL
                  THEN 'bucket ' || json_extract_string(request_parameters, '$.s3BucketName') END,
             CASE WHEN json_extract_string(request_parameters, '$.s3KeyPrefix') IS NOT NULL
                  THEN 'key prefix ' || json_extract_string(request_parameters, '$.s3KeyPrefix') END,
             CASE WHEN json_extract_string(request_parameters, '$.kmsKeyId') IS NOT NULL
                  THEN 'KMS key ' || json_extract_string(request_parameters, '$.kmsKeyId') END,
             CASE WHEN coalesce(json_extract_string(request_parameters, '$.isOrganizationTrail'),
                                json_extract_string(request_parameters, '$.organizationEnabled')) IS NOT NULL
                  THEN 'organization trail ' || coalesce(json_extract_string(request_parameters, '$.isOrganizationTrail'),
                                                         json_extract_string(request_parameters, '$.organizationEnabled')) END,
             CASE WHEN coalesce(json_extract_string(request_parameters, '$.isMultiRegionTrail'),
                                json_extract_string(request_parameters, '$.multiRegionEnabled')) IS NOT NULL
                  THEN 'all regions ' || coalesce(json_extract_string(request_parameters, '$.isMultiRegionTrail'),
                                                  json_extract_string(request_parameters, '$.multiRegionEnabled')) END
           ) AS what
    FROM trail_events
    WHERE event_name IN ('UpdateTrail', 'UpdateEventDataStore')
      AND error_code IS NULL
)
SELECT identity_arn,
       source_ip,
       CASE WHEN regexp_matches(json_extract_string(request_parameters, '$.kmsKeyId'), '^arn:[\w-]+:kms:')
            THEN json_extract_string(request_parameters, '$.kmsKeyId') END AS key_arn,
       account_id,
       event_time AS first_seen,
       event_time AS last_seen,
       1          AS event_count,
       event_name || ' ' || coalesce(json_extract_string(request_parameters, '$.name'),
                                     json_extract_string(request_parameters, '$.eventDataStore'), '(unnamed)') || ': ' || what AS detail
FROM changed
WHERE what <> ''
  AND (CAST($since AS TIMESTAMP) IS NULL OR event_time >= CAST($since AS TIMESTAMP))
ORDER BY event_time, event_id
