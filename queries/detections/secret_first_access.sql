-- id: secret_first_access
-- title: A caller reads a secret or SecureString parameter for the first time, one that few others read
-- severity: low
-- description: Decrypt calls Secrets Manager (encryptionContext.SecretARN) and Parameter Store
--   (encryptionContext.PARAMETER_ARN) make for a caller, by a caller that never read that secret or
--   parameter before, when between 1 and max_readers other principals read it before (a secret with
--   an established, small set of readers), after the first learning_days of the data (before that
--   every read is a first). Reconnaissance one secret at a time stays below secret_harvest's
--   breadth; this sees it. A new secret's first reader (nobody read it before) is not a finding.
--   First reads by one caller no more than window_minutes apart are one finding, with each secret
--   or parameter and its usual readers. $since reports only first reads at or after it.
-- attack: T1555.006, T1552
-- params: learning_days=7, max_readers=3, window_minutes=60
-- dialect: json_extract_string as in key_loss; string_agg as in new_source_ip; to_days(n) is
--   n * INTERVAL '1' DAY in Trino.
WITH reads AS (
    SELECT identity_arn, source_ip, key_arn, account_id, event_time,
           coalesce(json_extract_string(encryption_context, '$.SecretARN'),
                    json_extract_string(encryption_context, '$.PARAMETER_ARN')) AS target
    FROM kms_events
    WHERE event_name = 'Decrypt'
      AND error_code IS NULL
      AND identity_arn IS NOT NULL
      AND (json_extract_string(encryption_context, '$.SecretARN') IS NOT NULL
           OR json_extract_string(encryption_context, '$.PARAMETER_ARN') IS NOT NULL)
),
firsts AS (
    SELECT identity_arn, target, min(event_time) AS first_read, min_by(source_ip, event_time) AS source_ip,
           min_by(key_arn, event_time) AS key_arn, min(account_id) AS account_id
    FROM reads
    GROUP BY identity_arn, target
),
bounds AS (
    SELECT min(event_time) AS data_start FROM kms_events
),
-- First reads of a target that 1..max_readers other principals had read before.
novel AS (
    SELECT f.identity_arn, f.target, f.first_read, f.source_ip, f.key_arn, f.account_id,
           count(DISTINCT o.identity_arn)                                         AS readers,
           string_agg(DISTINCT o.identity_arn, ', ' ORDER BY o.identity_arn)      AS usual
    FROM firsts f
    CROSS JOIN bounds b
    JOIN firsts o ON o.target = f.target AND o.identity_arn <> f.identity_arn AND o.first_read < f.first_read
    WHERE f.first_read >= b.data_start + to_days(CAST($learning_days AS INTEGER))
    GROUP BY f.identity_arn, f.target, f.first_read, f.source_ip, f.key_arn, f.account_id
    HAVING count(DISTINCT o.identity_arn) <= CAST($max_readers AS INTEGER)
),
marked AS (
    SELECT n.*,
           CASE WHEN lag(first_read) OVER (PARTITION BY identity_arn ORDER BY first_read) IS NULL
                  OR date_diff('second', lag(first_read) OVER (PARTITION BY identity_arn ORDER BY first_read), first_read)
                     > CAST($window_minutes AS INTEGER) * 60
                THEN 1 ELSE 0 END AS new_incident
    FROM novel n
),
incidents AS (
    SELECT m.*, sum(new_incident) OVER (PARTITION BY identity_arn ORDER BY first_read, target ROWS UNBOUNDED PRECEDING) AS incident
    FROM marked m
)
SELECT identity_arn,
       CASE WHEN count(DISTINCT source_ip) = 1 THEN min(source_ip) END AS source_ip,
       CASE WHEN count(DISTINCT key_arn) = 1 THEN min(key_arn) END     AS key_arn,
       min(account_id)                                                  AS account_id,
       min(first_read)                                                  AS first_seen,
       max(first_read)                                                  AS last_seen,
       count(*)                                                         AS event_count,
       'first read of ' || string_agg(target || ' (usually read by ' || usual || ')', '; ' ORDER BY target) AS detail
FROM incidents
GROUP BY identity_arn, incident
HAVING CAST($since AS TIMESTAMP) IS NULL OR max(first_read) >= CAST($since AS TIMESTAMP)
ORDER BY first_seen, identity_arn
