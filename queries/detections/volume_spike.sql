-- id: volume_spike
-- title: A caller's daily calls of one operation on a key far above its own baseline
-- severity: medium
-- description: Counts each caller's calls per UTC day, operation and key, and compares the day
--   with the same caller, operation and key on its previous active days (up to baseline_days
--   back): median and median absolute deviation (MAD). Fires when the day reaches min_count calls
--   AND exceeds factor x the median AND the median + mad_factor x 1.4826 x MAD AND factor x the
--   busiest same weekday in the baseline (weekly jobs, such as a Sunday full backup, are their own
--   baseline), with at least min_baseline_days active days of history. So a new or quiet caller's
--   first busy day is not an alert, and steady high-volume callers (AWS services acting for users)
--   stay within their own baseline. $since limits the days reported; the baseline uses all
--   earlier data.
-- attack: T1530
-- params: baseline_days=14, min_baseline_days=5, min_count=100, factor=10, mad_factor=6
-- dialect: on Athena, median(x) becomes an exact median over the sorted array_agg (Trino has only
--   approx_percentile); see src/athena/dialect.ts. Everything else is common SQL.
WITH daily AS (
    SELECT identity_arn,
           key_arn,
           event_name,
           date_trunc('day', event_time)  AS day,
           min(account_id)                AS account_id,
           count(*)                       AS n,
           min(event_time)                AS first_seen,
           max(event_time)                AS last_seen,
           count(DISTINCT source_ip)      AS ips,
           min(source_ip)                 AS one_ip
    FROM kms_events
    WHERE key_arn IS NOT NULL
      AND identity_arn IS NOT NULL
      AND identity_arn <> 'AWS Internal'
      AND coalesce(event_type, '') <> 'AwsServiceEvent'
    GROUP BY identity_arn, key_arn, event_name, date_trunc('day', event_time)
),
-- The previous active days of the same caller, operation and key, for every day.
history AS (
    SELECT d.identity_arn, d.key_arn, d.event_name, d.day, b.n AS past_n, date_diff('day', b.day, d.day) AS days_back
    FROM daily d
    JOIN daily b
      ON b.identity_arn = d.identity_arn
     AND b.key_arn = d.key_arn
     AND b.event_name = d.event_name
     AND date_diff('day', b.day, d.day) BETWEEN 1 AND CAST($baseline_days AS INTEGER)
),
baseline AS (
    SELECT identity_arn, key_arn, event_name, day, median(past_n) AS med, count(*) AS past_days,
           max(CASE WHEN days_back % 7 = 0 THEN past_n END) AS same_weekday
    FROM history
    GROUP BY identity_arn, key_arn, event_name, day
),
spread AS (
    SELECT b.identity_arn, b.key_arn, b.event_name, b.day, b.med, b.past_days, b.same_weekday,
           median(abs(h.past_n - b.med)) AS mad
    FROM baseline b
    JOIN history h
      ON h.identity_arn = b.identity_arn AND h.key_arn = b.key_arn AND h.event_name = b.event_name AND h.day = b.day
    GROUP BY b.identity_arn, b.key_arn, b.event_name, b.day, b.med, b.past_days, b.same_weekday
)
SELECT d.identity_arn,
       CASE WHEN d.ips = 1 THEN d.one_ip END AS source_ip,
       d.key_arn,
       d.account_id,
       d.first_seen,
       d.last_seen,
       d.n AS event_count,
       d.event_name || ': ' || CAST(d.n AS VARCHAR) || ' calls on ' || CAST(CAST(d.day AS DATE) AS VARCHAR)
         || ' against a median of ' || CAST(round(s.med, 1) AS VARCHAR) || '/day (MAD ' || CAST(round(s.mad, 1) AS VARCHAR)
         || ') over ' || CAST(s.past_days AS VARCHAR) || ' earlier active days'
         || CASE WHEN d.ips > 1 THEN ', from ' || CAST(d.ips AS VARCHAR) || ' source addresses' ELSE '' END AS detail
FROM daily d
JOIN spread s
  ON s.identity_arn = d.identity_arn AND s.key_arn = d.key_arn AND s.event_name = d.event_name AND s.day = d.day
WHERE s.past_days >= CAST($min_baseline_days AS INTEGER)
  AND d.n >= CAST($min_count AS DOUBLE)
  AND d.n > CAST($factor AS DOUBLE) * s.med
  AND d.n > s.med + CAST($mad_factor AS DOUBLE) * 1.4826 * s.mad
  AND d.n > CAST($factor AS DOUBLE) * coalesce(s.same_weekday, 0)
  AND (CAST($since AS TIMESTAMP) IS NULL OR d.last_seen >= CAST($since AS TIMESTAMP))
ORDER BY d.first_seen, d.identity_arn, d.key_arn
