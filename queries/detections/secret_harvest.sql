-- id: secret_harvest
-- title: One caller decrypts many distinct secrets or SecureString parameters within minutes
-- severity: high
-- description: Credential harvesting seen through KMS. Secrets Manager decrypts a secret for
--   GetSecretValue with the caller's identity and encryptionContext.SecretARN; Parameter Store
--   decrypts a SecureString parameter with encryptionContext.PARAMETER_ARN. Fires when a caller has
--   decrypted min_distinct or more distinct secrets and parameters within window_minutes and that is
--   at least factor x the most it decrypted in any earlier window of the same length (its own
--   history: a nightly loader of the same 30 parameters is quiet from its second night; a function
--   reading the same 3 secrets all day never comes near). A caller with no history has a previous
--   maximum of 0, and no history is not a verdict: a caller first seen less than learning_hours
--   before the burst (the first day of the data, or of the caller) is reported low, unless it reached
--   extreme_distinct, a fixed floor. One finding per burst, however many windows or keys it spans, with the distinct
--   secrets and parameters, how long it took and the previous maximum. $since reports only bursts
--   that end at or after it.
-- attack: T1555.006, T1552
-- params: window_minutes=15, min_distinct=15, factor=3, learning_hours=24, extreme_distinct=100
-- dialect: json_extract_string as in key_loss; to_minutes(n) is n * INTERVAL '1' MINUTE in Trino.
WITH decrypts AS (
    SELECT identity_arn, source_ip, key_arn, account_id, event_time,
           CASE WHEN json_extract_string(encryption_context, '$.SecretARN') IS NOT NULL THEN 'secret' ELSE 'parameter' END AS kind,
           coalesce(json_extract_string(encryption_context, '$.SecretARN'),
                    json_extract_string(encryption_context, '$.PARAMETER_ARN')) AS target
    FROM kms_events
    WHERE event_name = 'Decrypt'
      AND error_code IS NULL
      AND identity_arn IS NOT NULL
      AND (json_extract_string(encryption_context, '$.SecretARN') IS NOT NULL
           OR json_extract_string(encryption_context, '$.PARAMETER_ARN') IS NOT NULL)
),
-- Distinct targets in a sliding window, in one pass: a read puts its target in the caller's window
-- (+1) until the target is read again or window_minutes have passed (-1); the running sum is the
-- number of distinct targets read in the window ending at each read.
reads AS (
    SELECT identity_arn, target, event_time,
           lead(event_time) OVER (PARTITION BY identity_arn, target ORDER BY event_time) AS next_read
    FROM (SELECT DISTINCT identity_arn, target, event_time FROM decrypts) AS d
),
steps AS (
    SELECT identity_arn, event_time AS t, 1 AS delta FROM reads
    UNION ALL
    SELECT identity_arn,
           CASE WHEN next_read < event_time + to_minutes(CAST($window_minutes AS INTEGER)) THEN next_read
                ELSE event_time + to_minutes(CAST($window_minutes AS INTEGER)) END AS t,
           -1 AS delta
    FROM reads
),
levels AS (
    SELECT identity_arn, t, delta,
           sum(delta) OVER (PARTITION BY identity_arn ORDER BY t, delta ROWS UNBOUNDED PRECEDING) AS active
    FROM steps
),
-- Windows at or above min_distinct; those closer than a window apart are one burst.
hot AS (
    SELECT identity_arn, t, active,
           CASE WHEN lag(t) OVER (PARTITION BY identity_arn ORDER BY t) IS NULL
                  OR date_diff('second', lag(t) OVER (PARTITION BY identity_arn ORDER BY t), t) > CAST($window_minutes AS INTEGER) * 60
                THEN 1 ELSE 0 END AS new_burst
    FROM levels
    WHERE delta = 1 AND active >= CAST($min_distinct AS INTEGER)
),
bursts AS (
    SELECT identity_arn, burst, min(t) AS first_hot, max(t) AS last_hot, max(active) AS peak
    FROM (SELECT h.*, sum(new_burst) OVER (PARTITION BY identity_arn ORDER BY t ROWS UNBOUNDED PRECEDING) AS burst FROM hot h) AS b
    GROUP BY identity_arn, burst
),
-- When each caller was first seen in the data: a caller younger than learning_hours has no history.
callers AS (
    SELECT identity_arn, min(event_time) AS caller_start
    FROM kms_events
    WHERE identity_arn IS NOT NULL
    GROUP BY identity_arn
),
-- The most the caller decrypted in any window that closed before the burst's first window opened:
-- a running maximum over the caller's windows, read at a probe row placed where the burst's first
-- window opens (after windows closing at that very time). One pass, whatever the history's length
-- (a join of each burst with every earlier window grew with the square of it).
probes AS (
    SELECT identity_arn, t, active, CAST(NULL AS BIGINT) AS burst, 0 AS probe FROM levels WHERE delta = 1
    UNION ALL
    SELECT identity_arn, first_hot - to_minutes(CAST($window_minutes AS INTEGER)) AS t, NULL AS active, CAST(burst AS BIGINT) AS burst, 1 AS probe
    FROM bursts
),
running AS (
    SELECT identity_arn, burst, probe,
           max(active) OVER (PARTITION BY identity_arn ORDER BY t, probe ROWS UNBOUNDED PRECEDING) AS previous_max
    FROM probes
),
history AS (
    SELECT b.identity_arn, b.burst, coalesce(r.previous_max, 0) AS previous_max,
           CASE WHEN c.caller_start > b.first_hot - to_minutes(CAST($window_minutes AS INTEGER)) - to_hours(CAST($learning_hours AS INTEGER))
                THEN c.caller_start END AS new_since
    FROM bursts b
    JOIN callers c ON c.identity_arn = b.identity_arn
    JOIN running r ON r.identity_arn = b.identity_arn AND r.probe = 1 AND r.burst = CAST(b.burst AS BIGINT)
),
members AS (
    SELECT b.identity_arn, b.burst, b.peak, h.previous_max, h.new_since, d.source_ip, d.key_arn, d.account_id, d.event_time, d.kind, d.target
    FROM bursts b
    JOIN history h ON h.identity_arn = b.identity_arn AND h.burst = b.burst
    JOIN decrypts d
      ON d.identity_arn = b.identity_arn
     AND d.event_time > b.first_hot - to_minutes(CAST($window_minutes AS INTEGER))
     AND d.event_time <= b.last_hot
    WHERE b.peak >= CAST($factor AS DOUBLE) * h.previous_max
),
summary AS (
    SELECT identity_arn, burst, peak, previous_max, new_since,
           CASE WHEN count(DISTINCT source_ip) = 1 THEN min(source_ip) END AS source_ip,
           CASE WHEN count(DISTINCT key_arn) = 1 THEN min(key_arn) END     AS key_arn,
           min(account_id)                                                  AS account_id,
           min(event_time)                                                  AS first_seen,
           max(event_time)                                                  AS last_seen,
           count(*)                                                         AS event_count,
           count(DISTINCT CASE WHEN kind = 'secret' THEN target END)        AS secrets,
           count(DISTINCT CASE WHEN kind = 'parameter' THEN target END)     AS parameters,
           date_diff('second', min(event_time), max(event_time))            AS seconds
    FROM members
    GROUP BY identity_arn, burst, peak, previous_max, new_since
)
SELECT identity_arn, source_ip, key_arn, account_id, first_seen, last_seen, event_count,
       'decrypted '
         || CASE WHEN secrets > 0 THEN CAST(secrets AS VARCHAR) || ' distinct Secrets Manager secrets' ELSE '' END
         || CASE WHEN secrets > 0 AND parameters > 0 THEN ' and ' ELSE '' END
         || CASE WHEN parameters > 0 THEN CAST(parameters AS VARCHAR) || ' distinct SSM SecureString parameters' ELSE '' END
         || ' in ' || CASE WHEN seconds < 120 THEN CAST(seconds AS VARCHAR) || ' s'
                           ELSE CAST(CAST(ceil(seconds / 60.0) AS BIGINT) AS VARCHAR) || ' min' END
         || ' (' || CAST(event_count AS VARCHAR) || ' Decrypt calls, at most ' || CAST(peak AS VARCHAR)
         || ' within ' || CAST(CAST($window_minutes AS INTEGER) AS VARCHAR) || ' min); its previous maximum in '
         || CAST(CAST($window_minutes AS INTEGER) AS VARCHAR) || ' min was ' || CAST(previous_max AS VARCHAR)
         || CASE WHEN new_since IS NOT NULL
                 THEN '; no baseline: the caller was first seen ' || strftime(new_since, '%Y-%m-%d %H:%M') || ' UTC, less than '
                      || CAST(CAST($learning_hours AS INTEGER) AS VARCHAR) || ' h before'
                      || CASE WHEN peak >= CAST($extreme_distinct AS INTEGER) THEN ', but the breadth is extreme' ELSE '' END
                 ELSE '' END AS detail,
       CASE WHEN new_since IS NOT NULL AND peak < CAST($extreme_distinct AS INTEGER) THEN 'low' END AS severity
FROM summary
WHERE CAST($since AS TIMESTAMP) IS NULL OR last_seen >= CAST($since AS TIMESTAMP)
ORDER BY first_seen, identity_arn
