-- id: xks_outage
-- title: Keys in an external key store refused in bursts: the proxy pulled or unreachable
-- severity: high
-- description: Bursts of KMSInvalidStateException on keys in an external key store (XKS): a key
--   created with origin EXTERNAL_KEY_STORE, or whose events name an xksKeyId, or an error message
--   about the external key store. When the proxy (which the key store's owner, or an attacker who
--   set it up, controls) is switched off or unreachable, every use of those keys fails: ransom by
--   withholding the key material, or an outage. Fires on min_errors or more such errors on the
--   keys of one key store, no two more than window_minutes apart. One finding per key store and
--   burst, with the key store (and its proxy when CreateCustomKeyStore is in the data), the keys
--   and the callers refused. A single refused call (a corrupted ciphertext) is no burst. $since
--   reports only bursts that end at or after it.
-- attack: T1486, T1485, T1489
-- params: min_errors=10, window_minutes=10
-- dialect: json_extract_string as in key_loss; string_agg as in new_source_ip; date_diff counts
--   boundaries (the dialect truncates).
WITH xks_keys AS (
    SELECT key_arn,
           max(coalesce(json_extract_string(additional_event_data, '$.customKeyStoreId'),
                        CASE WHEN event_name = 'CreateKey' THEN json_extract_string(request_parameters, '$.customKeyStoreId') END)) AS store_id
    FROM kms_events
    WHERE key_arn IS NOT NULL
      AND ((event_name = 'CreateKey' AND json_extract_string(request_parameters, '$.origin') = 'EXTERNAL_KEY_STORE')
           OR json_extract_string(additional_event_data, '$.xksKeyId') IS NOT NULL)
    GROUP BY key_arn
),
proxies AS (
    SELECT json_extract_string(response_elements, '$.customKeyStoreId') AS store_id,
           max(json_extract_string(request_parameters, '$.xksProxyUriEndpoint')) AS proxy
    FROM kms_events
    WHERE event_name = 'CreateCustomKeyStore'
      AND error_code IS NULL
      AND json_extract_string(response_elements, '$.customKeyStoreId') IS NOT NULL
    GROUP BY json_extract_string(response_elements, '$.customKeyStoreId')
),
refused AS (
    SELECT e.identity_arn, e.source_ip, e.key_arn, e.account_id, e.event_time, e.event_name, e.error_message,
           coalesce(k.store_id, json_extract_string(e.additional_event_data, '$.customKeyStoreId'), 'an external key store') AS store
    FROM kms_events e
    LEFT JOIN xks_keys k ON k.key_arn = e.key_arn
    WHERE e.error_code = 'KMSInvalidStateException'
      AND (k.key_arn IS NOT NULL
           OR json_extract_string(e.additional_event_data, '$.xksKeyId') IS NOT NULL
           OR strpos(lower(coalesce(e.error_message, '')), 'external key store') > 0)
),
marked AS (
    SELECT r.*,
           CASE WHEN lag(event_time) OVER (PARTITION BY store, account_id ORDER BY event_time) IS NULL
                  OR date_diff('second', lag(event_time) OVER (PARTITION BY store, account_id ORDER BY event_time), event_time)
                     > CAST($window_minutes AS INTEGER) * 60
                THEN 1 ELSE 0 END AS new_burst
    FROM refused r
),
bursts AS (
    SELECT m.*, sum(new_burst) OVER (PARTITION BY store, account_id ORDER BY event_time ROWS UNBOUNDED PRECEDING) AS burst
    FROM marked m
),
summary AS (
    SELECT store, account_id, burst,
           CASE WHEN count(DISTINCT identity_arn) = 1 THEN min(identity_arn) END AS identity_arn,
           CASE WHEN count(DISTINCT source_ip) = 1 THEN min(source_ip) END       AS source_ip,
           CASE WHEN count(DISTINCT key_arn) = 1 THEN min(key_arn) END           AS key_arn,
           min(event_time)                                                        AS first_seen,
           max(event_time)                                                        AS last_seen,
           count(*)                                                               AS event_count,
           count(DISTINCT key_arn)                                                AS keys,
           string_agg(DISTINCT identity_arn, ', ' ORDER BY identity_arn)          AS callers,
           max_by(error_message, event_time)                                      AS last_message
    FROM bursts
    GROUP BY store, account_id, burst
)
SELECT s.identity_arn,
       s.source_ip,
       s.key_arn,
       s.account_id,
       s.first_seen,
       s.last_seen,
       s.event_count,
       CAST(s.event_count AS VARCHAR) || ' calls refused with KMSInvalidStateException on ' || CAST(s.keys AS VARCHAR)
         || ' key(s) in external key store ' || s.store || coalesce(' (proxy ' || p.proxy || ')', '')
         || ' in ' || CAST(date_diff('minute', s.first_seen, s.last_seen) AS VARCHAR) || ' min; callers: ' || coalesce(s.callers, '(none named)')
         || coalesce('; last error: ' || s.last_message, '') AS detail
FROM summary s
LEFT JOIN proxies p ON p.store_id = s.store
WHERE s.event_count >= CAST($min_errors AS INTEGER)
  AND (CAST($since AS TIMESTAMP) IS NULL OR s.last_seen >= CAST($since AS TIMESTAMP))
ORDER BY s.first_seen, s.store
