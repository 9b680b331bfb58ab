-- section: daily_totals
-- title: Calls per day
-- description: Calls, errors, distinct callers and keys per UTC day (days without calls are absent).
SELECT CAST(event_time AS DATE)                       AS day,
       count(*)                                       AS calls,
       count(*) FILTER (WHERE error_code IS NOT NULL) AS errors,
       count(DISTINCT identity_arn)                   AS principals,
       count(DISTINCT key_arn)                        AS keys
FROM kms_events
WHERE (CAST($since AS TIMESTAMP) IS NULL OR event_time >= CAST($since AS TIMESTAMP))
  AND (CAST($until AS TIMESTAMP) IS NULL OR event_time < CAST($until AS TIMESTAMP))
  AND ($account IS NULL OR account_id = $account)
GROUP BY CAST(event_time AS DATE)
ORDER BY day
