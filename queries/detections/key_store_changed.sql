-- id: key_store_changed
-- title: Custom key store pointed at another cluster or proxy, or given new credentials
-- severity: medium
-- description: Successful UpdateCustomKeyStore calls that change what backs the key store: the
--   CloudHSM cluster or its kmsuser password, or the external key store proxy's endpoint, path, VPC
--   endpoint service, connectivity or authentication credential. Whoever controls the new backing
--   controls every key in the store. A rename alone (newCustomKeyStoreName) is not a finding. One
--   finding per update, naming what changed. $since reports only updates at or after it.
-- attack: T1486, T1556
-- dialect: json_extract_string as in key_loss.
WITH updates AS (
    SELECT identity_arn, source_ip, account_id, aws_region, event_time,
           json_extract_string(request_parameters, '$.customKeyStoreId') AS store,
           CASE WHEN json_extract_string(request_parameters, '$.cloudHsmClusterId') IS NOT NULL
                  OR json_extract_string(request_parameters, '$.clusterId') IS NOT NULL THEN ', CloudHSM cluster' ELSE '' END
             || CASE WHEN json_extract_string(request_parameters, '$.keyStorePassword') IS NOT NULL THEN ', kmsuser password' ELSE '' END
             || CASE WHEN json_extract_string(request_parameters, '$.xksProxyUriEndpoint') IS NOT NULL THEN ', proxy endpoint' ELSE '' END
             || CASE WHEN json_extract_string(request_parameters, '$.xksProxyUriPath') IS NOT NULL THEN ', proxy path' ELSE '' END
             || CASE WHEN json_extract_string(request_parameters, '$.xksProxyVpcEndpointServiceName') IS NOT NULL THEN ', proxy VPC endpoint service' ELSE '' END
             || CASE WHEN json_extract_string(request_parameters, '$.xksProxyConnectivity') IS NOT NULL THEN ', proxy connectivity' ELSE '' END
             || CASE WHEN json_extract_string(request_parameters, '$.xksProxyAuthenticationCredential') IS NOT NULL THEN ', proxy credential' ELSE '' END AS changed,
           coalesce(json_extract_string(request_parameters, '$.cloudHsmClusterId'),
                    json_extract_string(request_parameters, '$.clusterId'),
                    json_extract_string(request_parameters, '$.xksProxyUriEndpoint')) AS new_backing
    FROM kms_events
    WHERE event_name = 'UpdateCustomKeyStore'
      AND error_code IS NULL
      AND coalesce(event_type, '') <> 'AwsServiceEvent'
)
SELECT identity_arn,
       source_ip,
       CAST(NULL AS VARCHAR) AS key_arn,
       account_id,
       event_time            AS first_seen,
       event_time            AS last_seen,
       1                     AS event_count,
       'UpdateCustomKeyStore ' || coalesce(store, '(no key store id)') || ' in ' || coalesce(aws_region, '(unknown)')
         || ' changed the ' || substr(changed, 3) || coalesce(' (now ' || new_backing || ')', '') AS detail
FROM updates
WHERE changed <> ''
  AND (CAST($since AS TIMESTAMP) IS NULL OR event_time >= CAST($since AS TIMESTAMP))
ORDER BY event_time, store
