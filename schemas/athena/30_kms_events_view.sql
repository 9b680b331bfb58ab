-- kms_events over the raw CloudTrail table: the KMS events in the shape of the local table, so
-- that every detection and report runs on it unchanged. It reads them the way the ingest does
-- (src/kms/normalize.ts): identity_arn is the role behind an assumed-role session, the user or
-- root ARN, or the calling service; the key comes from resources[], else from a key id or ARN in
-- requestParameters (keyId, targetKeyId, sourceKeyId, destinationKeyId; a bare id is a key of the
-- caller's account and region), else from CreateKey's response. Differences from an ingested
-- table: no de-duplication (an event CloudTrail delivered twice counts twice), record_hash is
-- NULL, resources is JSON with lowercase keys, and delivery_date (the "timestamp" partition,
-- yyyy-MM-dd) takes the place of event_date: filter on it, and on account and region, to read
-- less of the trail.
CREATE OR REPLACE VIEW {{view}} AS
WITH kms AS (
    SELECT t.*,
           "$path" AS path,
           CASE WHEN starts_with(awsregion, 'cn-') THEN 'aws-cn'
                WHEN starts_with(awsregion, 'us-gov-') THEN 'aws-us-gov'
                WHEN starts_with(awsregion, 'us-isob-') THEN 'aws-iso-b'
                WHEN starts_with(awsregion, 'us-iso-') THEN 'aws-iso'
                ELSE 'aws' END AS arn_partition,
           coalesce(useridentity.accountid, recipientaccountid) AS caller_account
    FROM {{source}} t
    WHERE eventsource = 'kms.amazonaws.com'
),
keyed AS (
    SELECT k.*,
           coalesce(
               element_at(filter(resources, r -> regexp_like(r.arn, '^arn:[\w-]+:kms:[\w-]+:\d{12}:key/.+$')), 1).arn,
               CASE WHEN regexp_like(json_extract_scalar(requestparameters, '$.keyId'), '^arn:[\w-]+:kms:[\w-]+:\d{12}:key/.+$')
                    THEN json_extract_scalar(requestparameters, '$.keyId')
                    WHEN regexp_like(json_extract_scalar(requestparameters, '$.keyId'), '^[\w-]+$')
                    THEN 'arn:' || arn_partition || ':kms:' || awsregion || ':' || caller_account || ':key/' || json_extract_scalar(requestparameters, '$.keyId') END,
               CASE WHEN regexp_like(json_extract_scalar(requestparameters, '$.targetKeyId'), '^arn:[\w-]+:kms:[\w-]+:\d{12}:key/.+$')
                    THEN json_extract_scalar(requestparameters, '$.targetKeyId')
                    WHEN regexp_like(json_extract_scalar(requestparameters, '$.targetKeyId'), '^[\w-]+$')
                    THEN 'arn:' || arn_partition || ':kms:' || awsregion || ':' || caller_account || ':key/' || json_extract_scalar(requestparameters, '$.targetKeyId') END,
               CASE WHEN regexp_like(json_extract_scalar(requestparameters, '$.sourceKeyId'), '^arn:[\w-]+:kms:[\w-]+:\d{12}:key/.+$')
                    THEN json_extract_scalar(requestparameters, '$.sourceKeyId')
                    WHEN regexp_like(json_extract_scalar(requestparameters, '$.sourceKeyId'), '^[\w-]+$')
                    THEN 'arn:' || arn_partition || ':kms:' || awsregion || ':' || caller_account || ':key/' || json_extract_scalar(requestparameters, '$.sourceKeyId') END,
               CASE WHEN regexp_like(json_extract_scalar(requestparameters, '$.destinationKeyId'), '^arn:[\w-]+:kms:[\w-]+:\d{12}:key/.+$')
                    THEN json_extract_scalar(requestparameters, '$.destinationKeyId')
                    WHEN regexp_like(json_extract_scalar(requestparameters, '$.destinationKeyId'), '^[\w-]+$')
                    THEN 'arn:' || arn_partition || ':kms:' || awsregion || ':' || caller_account || ':key/' || json_extract_scalar(requestparameters, '$.destinationKeyId') END,
               CASE WHEN regexp_like(json_extract_scalar(responseelements, '$.keyMetadata.arn'), '^arn:[\w-]+:kms:[\w-]+:\d{12}:key/.+$')
                    THEN json_extract_scalar(responseelements, '$.keyMetadata.arn') END
           ) AS resolved_key_arn
    FROM kms k
)
SELECT eventid                                                              AS event_id,
       CAST(NULL AS varchar)                                                AS record_hash,
       CAST(from_iso8601_timestamp(eventtime) AT TIME ZONE 'UTC' AS timestamp) AS event_time,
       eventname                                                            AS event_name,
       eventtype                                                            AS event_type,
       eventversion                                                         AS event_version,
       CASE readonly WHEN 'true' THEN true WHEN 'false' THEN false END      AS read_only,
       awsregion                                                            AS aws_region,
       recipientaccountid                                                   AS account_id,
       useridentity.type                                                    AS principal_type,
       useridentity.arn                                                     AS principal_arn,
       useridentity.principalid                                             AS principal_id,
       CASE WHEN useridentity.type = 'AssumedRole' AND useridentity.sessioncontext.sessionissuer.arn IS NOT NULL
            THEN useridentity.sessioncontext.sessionissuer.arn
            WHEN useridentity.type = 'AssumedRole' AND regexp_like(useridentity.arn, '^arn:[\w-]+:sts::\d{12}:assumed-role/[^/]+/')
            THEN 'arn:' || regexp_extract(useridentity.arn, '^arn:([\w-]+):', 1) || ':iam::'
                 || regexp_extract(useridentity.arn, '^arn:[\w-]+:sts::(\d{12}):', 1) || ':role/'
                 || regexp_extract(useridentity.arn, ':assumed-role/([^/]+)/', 1)
            WHEN useridentity.type = 'AWSService'
            THEN coalesce(useridentity.invokedby, useridentity.arn)
            ELSE coalesce(useridentity.arn, useridentity.invokedby, useridentity.principalid, useridentity.accountid)
       END                                                                  AS identity_arn,
       useridentity.accountid                                               AS principal_account,
       coalesce(useridentity.username, useridentity.sessioncontext.sessionissuer.username) AS user_name,
       useridentity.accesskeyid                                             AS access_key_id,
       useridentity.invokedby                                               AS invoked_by,
       sourceipaddress                                                      AS source_ip,
       useragent                                                            AS user_agent,
       resolved_key_arn                                                     AS key_arn,
       regexp_extract(resolved_key_arn, ':key/(.+)$', 1)                    AS key_id,
       regexp_extract(resolved_key_arn, '^arn:[\w-]+:kms:[\w-]+:(\d{12}):', 1) AS key_account,
       errorcode                                                            AS error_code,
       errormessage                                                         AS error_message,
       requestid                                                            AS request_id,
       vpcendpointid                                                        AS vpc_endpoint_id,
       nullif(json_format(json_extract(requestparameters, '$.encryptionContext')), 'null') AS encryption_context,
       requestparameters                                                    AS request_parameters,
       responseelements                                                     AS response_elements,
       additionaleventdata                                                  AS additional_event_data,
       json_format(CAST(resources AS json))                                 AS resources,
       path                                                                 AS source_object,
       replace("timestamp", '/', '-')                                       AS delivery_date
FROM keyed
