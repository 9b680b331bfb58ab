-- id: new_source_ip
-- title: A caller uses KMS from an address it was never seen using before
-- severity: low
-- description: For each caller (identity_arn), the addresses it called KMS from during its first
--   learning_days days are known; a call from any other address afterwards is reported, once per
--   caller and address, with every call made from it. Only IPv4 / IPv6 addresses count: 'AWS
--   Internal' and service names (s3.amazonaws.com: calls an AWS service made for the caller) are
--   never new addresses. Private IPv4 addresses (10/8, 172.16/12, 192.168/16, 100.64/10) count by
--   their /16 network and IPv6 addresses by their /64, so containers and functions that get a new
--   address in the same VPC are not new; callers already seen from more than max_known_addresses
--   addresses in their learning period roam by design (functions on public AWS addresses) and are
--   left out. $since reports only addresses first used at or after it.
-- attack: T1078.004
-- params: learning_days=7, max_known_addresses=20
-- dialect: regexp_matches(s, p) is regexp_like(s, p) in Trino; string_agg(DISTINCT x, ', ' ORDER BY x)
--   is array_join(array_sort(array_agg(DISTINCT x)), ', '); min_by and regexp_extract are the same.
WITH callers AS (
    -- A caller is known from its first KMS event, whatever it came from.
    SELECT identity_arn, min(event_time) AS known_since
    FROM kms_events
    WHERE identity_arn IS NOT NULL
    GROUP BY identity_arn
),
calls AS (
    SELECT identity_arn, source_ip, key_arn, account_id, event_time, event_name,
           CASE WHEN regexp_matches(source_ip, '^(10\.|192\.168\.|172\.(1[6-9]|2[0-9]|3[01])\.|100\.(6[4-9]|[7-9][0-9]|1[01][0-9]|12[0-7])\.)')
                THEN regexp_extract(source_ip, '^([0-9]+\.[0-9]+)\.', 1) || '.0.0/16'
                WHEN strpos(source_ip, ':') > 0
                THEN coalesce(nullif(regexp_extract(lower(source_ip), '^([0-9a-f]*:[0-9a-f]*:[0-9a-f]*:[0-9a-f]*)', 1), ''), lower(source_ip)) || '/64'
                ELSE source_ip END AS address
    FROM kms_events
    WHERE identity_arn IS NOT NULL
      AND identity_arn <> 'AWS Internal'
      AND source_ip IS NOT NULL
      AND (regexp_matches(source_ip, '^[0-9]{1,3}(\.[0-9]{1,3}){3}$')
           OR regexp_matches(source_ip, '^[0-9A-Fa-f]{0,4}(:[0-9A-Fa-f]{0,4}){2,7}$'))
),
addresses AS (
    SELECT identity_arn,
           address,
           min_by(source_ip, event_time) AS first_ip,
           min(event_time)               AS first_seen,
           max(event_time)               AS last_seen,
           count(*)                      AS n,
           count(DISTINCT key_arn)       AS keys,
           min(key_arn)                  AS one_key,
           min(account_id)               AS account_id,
           string_agg(DISTINCT event_name, ', ' ORDER BY event_name) AS operations
    FROM calls
    GROUP BY identity_arn, address
),
learned AS (
    SELECT a.identity_arn, count(*) AS known
    FROM addresses a
    JOIN callers c ON c.identity_arn = a.identity_arn
    WHERE date_diff('second', c.known_since, a.first_seen) < CAST($learning_days AS INTEGER) * 86400
    GROUP BY a.identity_arn
)
SELECT a.identity_arn,
       a.first_ip AS source_ip,
       CASE WHEN a.keys = 1 THEN a.one_key END AS key_arn,
       a.account_id,
       a.first_seen,
       a.last_seen,
       a.n AS event_count,
       'first call from ' || a.first_ip || CASE WHEN a.address <> a.first_ip THEN ' (network ' || a.address || ')' ELSE '' END
         || ' ' || CAST(date_diff('day', c.known_since, a.first_seen) AS VARCHAR) || ' days after the caller was first seen: '
         || a.operations || CASE WHEN a.keys > 1 THEN ' on ' || CAST(a.keys AS VARCHAR) || ' keys' ELSE '' END AS detail
FROM addresses a
JOIN callers c ON c.identity_arn = a.identity_arn
LEFT JOIN learned l ON l.identity_arn = a.identity_arn
WHERE date_diff('second', c.known_since, a.first_seen) >= CAST($learning_days AS INTEGER) * 86400
  AND coalesce(l.known, 0) <= CAST($max_known_addresses AS INTEGER)
  AND (CAST($since AS TIMESTAMP) IS NULL OR a.first_seen >= CAST($since AS TIMESTAMP))
ORDER BY a.first_seen, a.identity_arn, a.address
