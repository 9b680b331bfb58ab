-- section: keys
-- title: Usage per key
-- description: One row per key (calls without a key, such as ListKeys and ListAliases, are left
--   out): calls by kind of operation (the same columns as the principals section), distinct
--   callers and source IPs, errors, key policy changes (PutKeyPolicy) in the period, and the
--   first and last call. The key's state comes from the kms_key_state view (section key_state).
-- dialect: kms_event_catalogue is a table the DuckDB store writes; on Athena it must exist too
--   (or be inlined as a VALUES list). Everything else is common SQL (FILTER, window functions).
WITH scoped AS (
    SELECT e.key_arn, e.key_id, e.key_account, e.aws_region, e.identity_arn, e.event_time,
           e.event_name, e.source_ip, e.error_code, c.category
    FROM kms_events e
    LEFT JOIN kms_event_catalogue c ON c.event_name = e.event_name
    WHERE e.key_arn IS NOT NULL
      AND (CAST($since AS TIMESTAMP) IS NULL OR e.event_time >= CAST($since AS TIMESTAMP))
      AND (CAST($until AS TIMESTAMP) IS NULL OR e.event_time < CAST($until AS TIMESTAMP))
      AND ($account IS NULL OR e.account_id = $account)
)
SELECT key_arn,
       max(key_id)                                                          AS key_id,
       max(key_account)                                                     AS key_account,
       max(aws_region)                                                      AS aws_region,
       count(*)                                                             AS calls,
       count(*) FILTER (WHERE event_name = 'Decrypt')                       AS decrypt,
       count(*) FILTER (WHERE event_name = 'Encrypt')                       AS encrypt,
       count(*) FILTER (WHERE event_name LIKE 'GenerateDataKey%')           AS generate_data_key,
       count(*) FILTER (WHERE category = 'data' AND event_name NOT IN ('Decrypt', 'Encrypt')
                              AND event_name NOT LIKE 'GenerateDataKey%')   AS other_crypto,
       count(*) FILTER (WHERE category = 'read')                            AS describe_list,
       count(*) FILTER (WHERE category IS NULL OR category NOT IN ('data', 'read')) AS management,
       count(DISTINCT identity_arn)                                         AS callers,
       count(DISTINCT source_ip)                                            AS source_ips,
       count(*) FILTER (WHERE error_code IS NOT NULL)                       AS errors,
       round(CAST(count(*) FILTER (WHERE error_code IS NOT NULL) AS DOUBLE) / count(*), 4) AS error_rate,
       count(*) FILTER (WHERE event_name = 'PutKeyPolicy' AND error_code IS NULL) AS policy_changes,
       min(event_time)                                                      AS first_seen,
       max(event_time)                                                      AS last_seen
FROM scoped
GROUP BY key_arn
ORDER BY calls DESC, key_arn
