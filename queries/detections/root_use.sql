-- id: root_use
-- title: The account root user calls KMS
-- severity: medium
-- description: KMS calls made with the root user's credentials (userIdentity.type Root), which
--   should be locked away and not used for daily work. One finding per root user and source
--   address, with the operations, keys and refusals.
-- attack: T1078.004
-- dialect: string_agg(DISTINCT x, ', ' ORDER BY x) is array_join(array_sort(array_agg(DISTINCT x)), ', ') in Trino.
SELECT identity_arn,
       source_ip,
       CASE WHEN count(DISTINCT key_arn) = 1 THEN min(key_arn) END AS key_arn,
       min(account_id)                                            AS account_id,
       min(event_time)                                            AS first_seen,
       max(event_time)                                            AS last_seen,
       count(*)                                                   AS event_count,
       'root user called ' || string_agg(DISTINCT event_name, ', ' ORDER BY event_name)
         || ' on ' || CAST(count(DISTINCT key_arn) AS VARCHAR) || ' key(s)'
         || CASE WHEN count(error_code) > 0 THEN ' (' || CAST(count(error_code) AS VARCHAR) || ' refused)' ELSE '' END AS detail
FROM kms_events
WHERE principal_type = 'Root'
  AND coalesce(event_type, '') <> 'AwsServiceEvent'
  AND (CAST($since AS TIMESTAMP) IS NULL OR event_time >= CAST($since AS TIMESTAMP))
GROUP BY identity_arn, source_ip
ORDER BY first_seen, identity_arn
