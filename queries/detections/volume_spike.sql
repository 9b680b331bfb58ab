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
--   stay within their own baseline. One finding per caller and run of consecutive spiking days,
--   whatever the keys and operations (a burst past midnight or over several keys is one
--   incident). $since reports only incidents that end at or after it; the baseline uses all
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
),
-- The caller's days that spike, on any key and operation.
spikes AS (
    SELECT d.identity_arn, d.day, d.key_arn, d.account_id, d.first_seen, d.last_seen, d.n, d.ips, d.one_ip,
           d.event_name || ': ' || CAST(d.n AS VARCHAR) || ' calls on ' || CAST(CAST(d.day AS DATE) AS VARCHAR)
             || ' against a median of ' || CAST(round(s.med, 1) AS VARCHAR) || '/day (MAD ' || CAST(round(s.mad, 1) AS VARCHAR)
             || ') over ' || CAST(s.past_days AS VARCHAR) || ' earlier active days'
             || CASE WHEN d.ips > 1 THEN ', from ' || CAST(d.ips AS VARCHAR) || ' source addresses' ELSE '' END AS what
    FROM daily d
    JOIN spread s
      ON s.identity_arn = d.identity_arn AND s.key_arn = d.key_arn AND s.event_name = d.event_name AND s.day = d.day
    WHERE s.past_days >= CAST($min_baseline_days AS INTEGER)
      AND d.n >= CAST($min_count AS DOUBLE)
      AND d.n > CAST($factor AS DOUBLE) * s.med
      AND d.n > s.med + CAST($mad_factor AS DOUBLE) * 1.4826 * s.mad
      AND d.n > CAST($factor AS DOUBLE) * coalesce(s.same_weekday, 0)
),
-- One incident per caller and run of consecutive spiking days, whatever the keys and operations.
incidents AS (
    SELECT sp.*,
           sum(CASE WHEN prev_day IS NULL OR date_diff('day', prev_day, day) > 1 THEN 1 ELSE 0 END)
             OVER (PARTITION BY identity_arn ORDER BY day, first_seen, key_arn ROWS UNBOUNDED PRECEDING) AS incident
    FROM (SELECT x.*, lag(day) OVER (PARTITION BY identity_arn ORDER BY day, first_seen, key_arn) AS prev_day FROM spikes x) AS sp
)
SELECT identity_arn,
       CASE WHEN max(ips) = 1 AND count(DISTINCT one_ip) = 1 THEN min(one_ip) END AS source_ip,
       CASE WHEN count(DISTINCT key_arn) = 1 THEN min(key_arn) END              AS key_arn,
       min(account_id)                                                          AS account_id,
       min(first_seen)                                                          AS first_seen,
       max(last_seen)                                                           AS last_seen,
       sum(n)                                                                   AS event_count,
       CASE WHEN count(*) = 1 THEN min(what)
            ELSE CAST(count(*) AS VARCHAR) || ' spikes on ' || CAST(count(DISTINCT key_arn) AS VARCHAR) || ' key(s): '
                 || string_agg(what || ' (' || key_arn || ')', '; ' ORDER BY first_seen) END AS detail
FROM incidents
GROUP BY identity_arn, incident
HAVING CAST($since AS TIMESTAMP) IS NULL OR max(last_seen) >= CAST($since AS TIMESTAMP)
ORDER BY first_seen, identity_arn, key_arn
