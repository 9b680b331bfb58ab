-- A CloudTrail record -> a kms_events row: the one normalisation, for both engines. The local
-- ingest runs it over the records it staged; `keytrail athena ddl --cloudtrail` translates it
-- (src/athena/dialect.ts) into the kms_events view over the raw CloudTrail table. Change it here
-- and both change.
--
-- {{records}}    CloudTrail records with the columns of the AWS-documented Athena CloudTrail table
--                (eventtime, useridentity STRUCT, requestparameters JSON text, resources
--                ARRAY<STRUCT(arn, accountid, type)> ...; names match case-insensitively), plus
--                source_object (the object's URI), record_hash (MD5 of the record's bytes, or NULL)
--                and record_ref (where the record stands in its batch, or NULL).
-- {{principals}} the principals directory (unique_id -> arn): see principals.sql.
--
-- identity_arn, the caller as one identity across its sessions:
--   IAMUser, Root, FederatedUser    userIdentity.arn
--   AssumedRole                     the role: sessionContext.sessionIssuer.arn (with its path; this
--                                   covers service-linked roles, IAM Identity Center's
--                                   AWSReservedSSO_… roles, web-identity and SAML sessions), else the
--                                   directory's ARN for the AROA… id, else the role named in the
--                                   session ARN (arn:aws:iam::<account>:role/<name>, path unknown)
--   AWSAccount (another account's   the directory's ARN for the AROA…/AIDA… id before the ':', else
--   principal, as the key owner's   arn:<partition>:iam::<account>:unknown/<unique id> (never the
--   trail records it)               session); an account id alone: arn:<partition>:iam::<account>:root
--   AWSService                      the service (userIdentity.invokedBy)
--   IdentityCenterUser              <identity store ARN>/user/<user id> (userIdentity.onBehalfOf)
--   anything else                   arn, else invokedBy, else principalId, else accountId
-- session_name is the part of principalId after ':' (the role session, the federated user name).
WITH base AS (
    SELECT r.*,
           CASE WHEN starts_with(r.awsregion, 'cn-') THEN 'aws-cn'
                WHEN starts_with(r.awsregion, 'us-gov-') THEN 'aws-us-gov'
                WHEN starts_with(r.awsregion, 'us-isob-') THEN 'aws-iso-b'
                WHEN starts_with(r.awsregion, 'us-iso-') THEN 'aws-iso'
                ELSE 'aws' END                                             AS arn_partition,
           coalesce(r.useridentity.accountid, r.recipientaccountid)        AS caller_account,
           split_part(r.useridentity.principalid, ':', 1)                  AS unique_id,
           coalesce(
               CASE WHEN regexp_matches(json_extract_string(r.requestparameters, '$.keyId'), '^(arn:[\w-]+:kms:[\w-]+:\d{12}:key/.+|[\w-]+)$')
                    THEN json_extract_string(r.requestparameters, '$.keyId') END,
               CASE WHEN regexp_matches(json_extract_string(r.requestparameters, '$.targetKeyId'), '^(arn:[\w-]+:kms:[\w-]+:\d{12}:key/.+|[\w-]+)$')
                    THEN json_extract_string(r.requestparameters, '$.targetKeyId') END,
               CASE WHEN regexp_matches(json_extract_string(r.requestparameters, '$.sourceKeyId'), '^(arn:[\w-]+:kms:[\w-]+:\d{12}:key/.+|[\w-]+)$')
                    THEN json_extract_string(r.requestparameters, '$.sourceKeyId') END,
               CASE WHEN regexp_matches(json_extract_string(r.requestparameters, '$.destinationKeyId'), '^(arn:[\w-]+:kms:[\w-]+:\d{12}:key/.+|[\w-]+)$')
                    THEN json_extract_string(r.requestparameters, '$.destinationKeyId') END
           )                                                               AS key_param,
           json_extract_string(r.responseelements, '$.keyMetadata.arn')    AS created_key_arn,
           CAST(TRY_CAST(r.eventtime AS TIMESTAMPTZ) AT TIME ZONE 'UTC' AS TIMESTAMP) AS parsed_time
    FROM {{records}} r
),
keyed AS (
    -- The key: the AWS::KMS::Key in resources[], else the first of keyId, targetKeyId, sourceKeyId,
    -- destinationKeyId that is a key ARN or a bare key id (a key of the caller's account and
    -- region; aliases are not keys), else the key CreateKey made.
    SELECT b.*,
           coalesce(
               (list_extract(list_filter(b.resources, x -> regexp_matches(x.arn, '^arn:[\w-]+:kms:[\w-]+:\d{12}:key/.+$')), 1)).arn,
               CASE WHEN regexp_matches(b.key_param, '^arn:') THEN b.key_param
                    ELSE 'arn:' || b.arn_partition || ':kms:' || b.awsregion || ':' || b.caller_account || ':key/' || b.key_param END,
               CASE WHEN regexp_matches(b.created_key_arn, '^arn:[\w-]+:kms:[\w-]+:\d{12}:key/.+$') THEN b.created_key_arn END
           ) AS key_arn,
           p.arn AS directory_arn
    FROM base b
    LEFT JOIN {{principals}} p ON p.unique_id = b.unique_id
)
SELECT coalesce(k.eventid, 'keytrail:' || k.record_hash)                AS event_id,
       k.record_hash                                                    AS record_hash,
       k.parsed_time                                                    AS event_time,
       k.eventname                                                      AS event_name,
       k.eventtype                                                      AS event_type,
       k.eventversion                                                   AS event_version,
       CASE lower(k.readonly) WHEN 'true' THEN true WHEN 'false' THEN false END AS read_only,
       k.awsregion                                                      AS aws_region,
       k.recipientaccountid                                             AS account_id,
       k.useridentity.type                                              AS principal_type,
       k.useridentity.arn                                               AS principal_arn,
       k.useridentity.principalid                                       AS principal_id,
       CASE WHEN k.useridentity.type = 'AssumedRole'
            THEN coalesce(k.useridentity.sessioncontext.sessionissuer.arn, k.directory_arn,
                     CASE WHEN regexp_matches(k.useridentity.arn, '^arn:[\w-]+:sts::\d{12}:assumed-role/[^/]+/')
                          THEN 'arn:' || regexp_extract(k.useridentity.arn, '^arn:([\w-]+):', 1) || ':iam::'
                               || regexp_extract(k.useridentity.arn, '^arn:[\w-]+:sts::(\d{12}):', 1) || ':role/'
                               || regexp_extract(k.useridentity.arn, ':assumed-role/([^/]+)/', 1) END,
                     k.useridentity.arn)
            WHEN k.useridentity.type = 'AWSAccount'
            THEN coalesce(k.directory_arn,
                     CASE WHEN regexp_matches(k.useridentity.principalid, '^\d{12}$')
                          THEN 'arn:' || k.arn_partition || ':iam::' || k.useridentity.principalid || ':root' END,
                     CASE WHEN k.unique_id <> '' AND k.useridentity.accountid IS NOT NULL
                          THEN 'arn:' || k.arn_partition || ':iam::' || k.useridentity.accountid || ':unknown/' || k.unique_id END,
                     k.useridentity.principalid, k.useridentity.accountid)
            WHEN k.useridentity.type = 'AWSService'
            THEN coalesce(k.useridentity.invokedby, k.useridentity.arn)
            WHEN k.useridentity.arn IS NULL AND k.useridentity.onbehalfof.userid IS NOT NULL
            THEN k.useridentity.onbehalfof.identitystorearn || '/user/' || k.useridentity.onbehalfof.userid
            ELSE coalesce(k.useridentity.arn, k.useridentity.invokedby, k.useridentity.principalid, k.useridentity.accountid)
       END                                                              AS identity_arn,
       CASE WHEN strpos(k.useridentity.principalid, ':') > 0
            THEN substr(k.useridentity.principalid, strpos(k.useridentity.principalid, ':') + 1) END AS session_name,
       k.useridentity.accountid                                         AS principal_account,
       coalesce(k.useridentity.username, k.useridentity.sessioncontext.sessionissuer.username) AS user_name,
       k.useridentity.accesskeyid                                       AS access_key_id,
       k.useridentity.invokedby                                         AS invoked_by,
       k.sourceipaddress                                                AS source_ip,
       k.useragent                                                      AS user_agent,
       k.key_arn                                                        AS key_arn,
       CASE WHEN k.key_arn IS NOT NULL THEN regexp_extract(k.key_arn, ':key/(.+)$', 1) END AS key_id,
       CASE WHEN k.key_arn IS NOT NULL THEN regexp_extract(k.key_arn, '^arn:[\w-]+:kms:[\w-]+:(\d{12}):', 1) END AS key_account,
       k.errorcode                                                      AS error_code,
       k.errormessage                                                   AS error_message,
       k.requestid                                                      AS request_id,
       k.vpcendpointid                                                  AS vpc_endpoint_id,
       nullif(json_extract_string(k.requestparameters, '$.encryptionContext'), 'null') AS encryption_context,
       k.requestparameters                                              AS request_parameters,
       k.responseelements                                               AS response_elements,
       k.additionaleventdata                                            AS additional_event_data,
       to_json(k.resources)                                             AS resources,
       k.source_object                                                  AS source_object,
       k.eventsource                                                    AS event_source,
       k.record_ref                                                     AS record_ref
FROM keyed k
