-- Friendly views over kms_events, created with the table. Plain SQL: use them from any DuckDB client.

-- Calls per caller: how much, on how many keys, from where, how often refused.
CREATE OR REPLACE VIEW kms_usage_by_identity AS
SELECT identity_arn,
       any_value(principal_type)                  AS principal_type,
       count(*)                                   AS calls,
       count(DISTINCT key_arn)                    AS keys,
       count(DISTINCT source_ip)                  AS source_ips,
       count(*) FILTER (WHERE error_code IS NOT NULL) AS errors,
       min(event_time)                            AS first_seen,
       max(event_time)                            AS last_seen
FROM kms_events
GROUP BY identity_arn;

-- Calls per key: who uses it and how.
CREATE OR REPLACE VIEW kms_usage_by_key AS
SELECT key_arn,
       any_value(key_account)                     AS key_account,
       any_value(aws_region)                      AS aws_region,
       count(*)                                   AS calls,
       count(DISTINCT identity_arn)               AS callers,
       count(*) FILTER (WHERE error_code IS NOT NULL) AS errors,
       min(event_time)                            AS first_seen,
       max(event_time)                            AS last_seen
FROM kms_events
WHERE key_arn IS NOT NULL
GROUP BY key_arn;
