-- section: key_operations
-- title: Operations per key
-- description: Calls and errors per key and KMS operation (eventName).
SELECT key_arn,
       event_name,
       count(*)                                       AS calls,
       count(*) FILTER (WHERE error_code IS NOT NULL) AS errors
FROM kms_events
WHERE key_arn IS NOT NULL
  AND (CAST($since AS TIMESTAMP) IS NULL OR event_time >= CAST($since AS TIMESTAMP))
  AND (CAST($until AS TIMESTAMP) IS NULL OR event_time < CAST($until AS TIMESTAMP))
  AND ($account IS NULL OR account_id = $account)
GROUP BY key_arn, event_name
ORDER BY key_arn, calls DESC, event_name
