-- section: daily_keys
-- title: Calls per day, top keys
-- description: Calls and errors per UTC day for the $top most used keys of the period (rank 1 is
--   the most used; ties broken by key_arn). Days without calls are absent.
WITH scoped AS (
    SELECT key_arn, event_time, error_code
    FROM kms_events
    WHERE key_arn IS NOT NULL
      AND (CAST($since AS TIMESTAMP) IS NULL OR event_time >= CAST($since AS TIMESTAMP))
      AND (CAST($until AS TIMESTAMP) IS NULL OR event_time < CAST($until AS TIMESTAMP))
      AND ($account IS NULL OR account_id = $account)
),
top_keys AS (
    SELECT key_arn, rnk
    FROM (SELECT key_arn, row_number() OVER (ORDER BY count(*) DESC, key_arn) AS rnk
          FROM scoped
          GROUP BY key_arn) ranked
    WHERE rnk <= $top
)
SELECT CAST(s.event_time AS DATE)                       AS day,
       s.key_arn,
       max(t.rnk)                                       AS rnk,
       count(*)                                         AS calls,
       count(*) FILTER (WHERE s.error_code IS NOT NULL) AS errors
FROM scoped s
JOIN top_keys t ON t.key_arn = s.key_arn
GROUP BY CAST(s.event_time AS DATE), s.key_arn
ORDER BY rnk, day
