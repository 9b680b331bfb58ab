-- id: access_denied_burst
-- title: Many access-denied KMS errors from one caller in a short time
-- severity: medium
-- description: Finds min_errors or more access-denied errors (error codes matching error_pattern:
--   AccessDenied, AccessDeniedException, UnauthorizedOperation ...) from one caller within
--   window_minutes, on one key or several: credentials being tried against keys they may not use.
--   Errors of a key's state (DisabledException, KMSInvalidStateException) are not denials and do not
--   count. One finding per burst: the caller's denied calls, each within window_minutes of the one
--   before, around a dense stretch. $since reports only bursts that end at or after it.
-- attack: T1078.004, T1580
-- params: window_minutes=10, min_errors=10, error_pattern=AccessDenied|Unauthorized
-- dialect: regexp_matches(s, p) is regexp_like(s, p) in Trino; string_agg as in new_source_ip.
WITH denied AS (
    SELECT event_id, identity_arn, source_ip, key_arn, account_id, event_time, event_name, error_code
    FROM kms_events
    WHERE error_code IS NOT NULL
      AND regexp_matches(error_code, $error_pattern)
      AND identity_arn IS NOT NULL
),
ordered AS (
    SELECT d.*,
           -- Is this call the first of min_errors denied calls that fit in the window?
           date_diff('second', event_time,
                     lead(event_time, CAST($min_errors AS INTEGER) - 1)
                       OVER (PARTITION BY identity_arn ORDER BY event_time, event_id))
             <= CAST($window_minutes AS INTEGER) * 60 AS starts_burst,
           -- A new cluster starts after a quiet gap longer than the window.
           CASE WHEN lag(event_time) OVER (PARTITION BY identity_arn ORDER BY event_time, event_id) IS NULL
                  OR date_diff('second', lag(event_time) OVER (PARTITION BY identity_arn ORDER BY event_time, event_id), event_time)
                     > CAST($window_minutes AS INTEGER) * 60
                THEN 1 ELSE 0 END AS new_cluster
    FROM denied d
),
clustered AS (
    SELECT o.*,
           sum(new_cluster) OVER (PARTITION BY identity_arn ORDER BY event_time, event_id ROWS UNBOUNDED PRECEDING) AS cluster
    FROM ordered o
)
SELECT identity_arn,
       CASE WHEN count(DISTINCT source_ip) = 1 THEN min(source_ip) END AS source_ip,
       CASE WHEN count(DISTINCT key_arn) = 1 THEN min(key_arn) END     AS key_arn,
       min(account_id)                                                  AS account_id,
       min(event_time)                                                  AS first_seen,
       max(event_time)                                                  AS last_seen,
       count(*)                                                         AS event_count,
       CAST(count(*) AS VARCHAR) || ' denied calls (' || string_agg(DISTINCT error_code, ', ' ORDER BY error_code)
         || ') in ' || CAST(CAST(ceil(date_diff('second', min(event_time), max(event_time)) / 60.0) AS BIGINT) AS VARCHAR) || ' min on '
         || CAST(count(DISTINCT key_arn) AS VARCHAR) || ' key(s): '
         || string_agg(DISTINCT event_name, ', ' ORDER BY event_name) AS detail
FROM clustered
GROUP BY identity_arn, cluster
HAVING sum(CASE WHEN starts_burst THEN 1 ELSE 0 END) > 0
   AND (CAST($since AS TIMESTAMP) IS NULL OR max(event_time) >= CAST($since AS TIMESTAMP))
ORDER BY first_seen, identity_arn
