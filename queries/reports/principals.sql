-- section: principals
-- title: Usage per principal
-- description: One row per caller (identity_arn: assumed-role sessions are folded into their role;
--   users, root and AWS services as they are): calls by kind of operation, keys used, distinct
--   source IPs, errors and error rate, first and last call, and the busiest UTC day.
--   Operation columns: decrypt, encrypt, generate_data_key (all GenerateDataKey* forms),
--   other_crypto (the rest of the cryptographic operations: ReEncrypt, Sign, Verify, ...),
--   describe_list (read-only calls: DescribeKey, List*, Get*) and management (everything that
--   changes a key, its policy, grants, aliases, rotation or tags, and unknown events).
-- dialect: kms_event_catalogue is a table the DuckDB store writes; on Athena it must exist too
--   (or be inlined as a VALUES list). Everything else is common SQL (FILTER, window functions).
WITH scoped AS NOT MATERIALIZED (
    SELECT e.identity_arn, e.principal_type, e.principal_account, e.event_time, e.event_name,
           e.key_arn, e.source_ip, e.error_code, c.category
    FROM kms_events e
    LEFT JOIN kms_event_catalogue c ON c.event_name = e.event_name
    WHERE (CAST($since AS TIMESTAMP) IS NULL OR e.event_time >= CAST($since AS TIMESTAMP))
      AND (CAST($until AS TIMESTAMP) IS NULL OR e.event_time < CAST($until AS TIMESTAMP))
      AND ($account IS NULL OR e.account_id = $account)
),
daily AS (
    SELECT identity_arn, CAST(event_time AS DATE) AS day, count(*) AS calls
    FROM scoped
    GROUP BY identity_arn, CAST(event_time AS DATE)
),
busiest AS (
    SELECT identity_arn, day, calls
    FROM (SELECT identity_arn, day, calls,
                 row_number() OVER (PARTITION BY identity_arn ORDER BY calls DESC, day) AS rn
          FROM daily) ranked
    WHERE rn = 1
)
SELECT s.identity_arn,
       max(s.principal_type)                                                  AS principal_type,
       max(s.principal_account)                                               AS principal_account,
       count(*)                                                               AS calls,
       count(*) FILTER (WHERE s.event_name = 'Decrypt')                       AS decrypt,
       count(*) FILTER (WHERE s.event_name = 'Encrypt')                       AS encrypt,
       count(*) FILTER (WHERE s.event_name LIKE 'GenerateDataKey%')           AS generate_data_key,
       count(*) FILTER (WHERE s.category = 'data' AND s.event_name NOT IN ('Decrypt', 'Encrypt')
                              AND s.event_name NOT LIKE 'GenerateDataKey%')   AS other_crypto,
       count(*) FILTER (WHERE s.category = 'read')                            AS describe_list,
       count(*) FILTER (WHERE s.category IS NULL OR s.category NOT IN ('data', 'read')) AS management,
       count(DISTINCT s.key_arn)                                              AS keys,
       count(DISTINCT s.source_ip)                                            AS source_ips,
       count(*) FILTER (WHERE s.error_code IS NOT NULL)                       AS errors,
       round(CAST(count(*) FILTER (WHERE s.error_code IS NOT NULL) AS DOUBLE) / count(*), 4) AS error_rate,
       min(s.event_time)                                                      AS first_seen,
       max(s.event_time)                                                      AS last_seen,
       max(b.day)                                                             AS busiest_day,
       max(b.calls)                                                           AS busiest_day_calls
FROM scoped s
LEFT JOIN busiest b ON b.identity_arn = s.identity_arn
GROUP BY s.identity_arn
ORDER BY calls DESC, s.identity_arn
