-- id: key_store_loss
-- title: Custom key store deleted, or disconnected and not reconnected
-- severity: high
-- description: Successful DeleteCustomKeyStore, and DisconnectCustomKeyStore not followed by a
--   ConnectCustomKeyStore of the same key store within reconnect_minutes. While a CloudHSM or
--   external key store is disconnected, none of its KMS keys can be used; the maintenance routine
--   (disconnect, UpdateCustomKeyStore, connect again) is not a finding. One finding per key store
--   operation, with the store's name and cluster or proxy when the record carries them. $since
--   reports only operations at or after it.
-- attack: T1485, T1489
-- params: reconnect_minutes=60
-- dialect: json_extract_string as in key_loss; to_minutes(n) is n * INTERVAL '1' MINUTE in Trino.
WITH ops AS (
    SELECT event_id, identity_arn, source_ip, account_id, aws_region, event_time, event_name,
           json_extract_string(request_parameters, '$.customKeyStoreId')        AS store,
           json_extract_string(additional_event_data, '$.customKeyStoreName')  AS store_name,
           coalesce(json_extract_string(additional_event_data, '$.clusterId'),
                    json_extract_string(additional_event_data, '$.xksProxyUriEndpoint')) AS backing
    FROM kms_events
    WHERE event_name IN ('DeleteCustomKeyStore', 'DisconnectCustomKeyStore', 'ConnectCustomKeyStore')
      AND error_code IS NULL
      AND coalesce(event_type, '') <> 'AwsServiceEvent'
),
lost AS (
    SELECT o.*
    FROM ops o
    WHERE o.event_name = 'DeleteCustomKeyStore'
       OR (o.event_name = 'DisconnectCustomKeyStore'
           AND NOT EXISTS (SELECT 1 FROM ops c
                           WHERE c.event_name = 'ConnectCustomKeyStore'
                             AND c.store = o.store AND c.account_id = o.account_id AND c.aws_region = o.aws_region
                             AND c.event_time >= o.event_time
                             AND c.event_time <= o.event_time + to_minutes(CAST($reconnect_minutes AS INTEGER))))
)
SELECT identity_arn,
       source_ip,
       CAST(NULL AS VARCHAR) AS key_arn,
       account_id,
       event_time            AS first_seen,
       event_time            AS last_seen,
       1                     AS event_count,
       event_name || ' ' || coalesce(store, '(no key store id)')
         || coalesce(' (' || store_name || coalesce(', ' || backing, '') || ')', ' (' || backing || ')', '')
         || ' in ' || coalesce(aws_region, '(unknown)')
         || CASE WHEN event_name = 'DisconnectCustomKeyStore'
                 THEN ': its KMS keys cannot be used, and it was not reconnected within '
                      || CAST(CAST($reconnect_minutes AS INTEGER) AS VARCHAR) || ' min'
                 ELSE ': its KMS keys are gone with it' END AS detail
FROM lost
WHERE CAST($since AS TIMESTAMP) IS NULL OR event_time >= CAST($since AS TIMESTAMP)
ORDER BY event_time, store
