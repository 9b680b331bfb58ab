-- section: scope
-- title: Accounts and regions
-- description: Calls per account (recipientAccountId) and region, with their callers, keys and errors.
SELECT account_id,
       aws_region,
       count(*)                                       AS calls,
       count(DISTINCT identity_arn)                   AS principals,
       count(DISTINCT key_arn)                        AS keys,
       count(*) FILTER (WHERE error_code IS NOT NULL) AS errors,
       min(event_time)                                AS first_event,
       max(event_time)                                AS last_event
FROM kms_events
WHERE (CAST($since AS TIMESTAMP) IS NULL OR event_time >= CAST($since AS TIMESTAMP))
  AND (CAST($until AS TIMESTAMP) IS NULL OR event_time < CAST($until AS TIMESTAMP))
  AND ($account IS NULL OR account_id = $account)
GROUP BY account_id, aws_region
ORDER BY calls DESC, account_id, aws_region
