-- section: daily_principals
-- title: Calls per day, top principals
-- description: Calls and errors per UTC day for the $top busiest callers of the period (rank 1 is
--   the busiest; ties broken by identity_arn). Days without calls are absent.
WITH scoped AS (
    SELECT identity_arn, event_time, error_code
    FROM kms_events
    WHERE (CAST($since AS TIMESTAMP) IS NULL OR event_time >= CAST($since AS TIMESTAMP))
      AND (CAST($until AS TIMESTAMP) IS NULL OR event_time < CAST($until AS TIMESTAMP))
      AND ($account IS NULL OR account_id = $account)
),
top_callers AS (
    SELECT identity_arn, rnk
    FROM (SELECT identity_arn, row_number() OVER (ORDER BY count(*) DESC, identity_arn) AS rnk
          FROM scoped
          GROUP BY identity_arn) ranked
    WHERE rnk <= $top
)
SELECT CAST(s.event_time AS DATE)                       AS day,
       s.identity_arn,
       max(t.rnk)                                       AS rnk,
       count(*)                                         AS calls,
       count(*) FILTER (WHERE s.error_code IS NOT NULL) AS errors
FROM scoped s
JOIN top_callers t ON t.identity_arn = s.identity_arn
GROUP BY CAST(s.event_time AS DATE), s.identity_arn
ORDER BY rnk, day
