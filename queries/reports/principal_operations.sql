-- section: principal_operations
-- title: Operations per principal
-- description: Calls and errors per caller and KMS operation (eventName), with the operation's
--   category from kms_event_catalogue (data, read, policy, grant, key-state, ...; NULL if unknown).
-- dialect: kms_event_catalogue is a table the DuckDB store writes; on Athena it must exist too
--   (or be inlined as a VALUES list). Everything else is common SQL (FILTER, window functions).
SELECT e.identity_arn,
       e.event_name,
       max(c.category)                                  AS category,
       count(*)                                         AS calls,
       count(*) FILTER (WHERE e.error_code IS NOT NULL) AS errors,
       count(DISTINCT e.key_arn)                        AS keys
FROM kms_events e
LEFT JOIN kms_event_catalogue c ON c.event_name = e.event_name
WHERE (CAST($since AS TIMESTAMP) IS NULL OR e.event_time >= CAST($since AS TIMESTAMP))
  AND (CAST($until AS TIMESTAMP) IS NULL OR e.event_time < CAST($until AS TIMESTAMP))
  AND ($account IS NULL OR e.account_id = $account)
GROUP BY e.identity_arn, e.event_name
ORDER BY e.identity_arn, calls DESC, e.event_name
