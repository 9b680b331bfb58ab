-- section: summary
-- title: Totals
-- description: One row: calls, distinct callers, keys, accounts, regions and source IPs, errors,
--   and the first and last event of the period.
-- Every report query takes the same scope: $since and $until ('YYYY-MM-DD HH:MM:SS' UTC, $until
-- exclusive; NULL for no bound) and $account (recipientAccountId, NULL for all accounts).
SELECT count(*)                                       AS calls,
       count(DISTINCT identity_arn)                   AS principals,
       count(DISTINCT key_arn)                        AS keys,
       count(DISTINCT account_id)                     AS accounts,
       count(DISTINCT aws_region)                     AS regions,
       count(DISTINCT source_ip)                      AS source_ips,
       count(*) FILTER (WHERE error_code IS NOT NULL) AS errors,
       min(event_time)                                AS first_event,
       max(event_time)                                AS last_event
FROM kms_events
WHERE (CAST($since AS TIMESTAMP) IS NULL OR event_time >= CAST($since AS TIMESTAMP))
  AND (CAST($until AS TIMESTAMP) IS NULL OR event_time < CAST($until AS TIMESTAMP))
  AND ($account IS NULL OR account_id = $account)
