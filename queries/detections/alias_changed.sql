-- id: alias_changed
-- title: An alias that others use re-pointed to another key, or deleted
-- severity: medium
-- description: Successful UpdateAlias and DeleteAlias calls (not by KMS itself) on an alias that
--   callers other than the one changing it used in the lookback_days before (a keyId, or a ReEncrypt
--   destinationKeyId, of alias/NAME or an alias ARN, in the same account and region). Applications
--   that encrypt through the alias now encrypt under another key, perhaps one an attacker controls,
--   or fail. An alias created, used and updated by the same deployment, and an alias nobody called,
--   are not findings. One finding per change, with the key the callers were using, the new target
--   and the callers. $since reports only changes at or after it.
-- attack: T1486, T1565
-- params: lookback_days=30
-- dialect: json_extract_string as in key_loss; regexp_matches as in new_source_ip; max_by and
--   string_agg as in key_loss and new_source_ip; to_days(n) is n * INTERVAL '1' DAY in Trino.
WITH changes AS (
    SELECT event_id, identity_arn, source_ip, account_id, aws_region, event_time, event_name,
           json_extract_string(request_parameters, '$.aliasName')   AS alias,
           json_extract_string(request_parameters, '$.targetKeyId') AS new_target
    FROM kms_events
    WHERE event_name IN ('UpdateAlias', 'DeleteAlias')
      AND error_code IS NULL
      AND coalesce(event_type, '') <> 'AwsServiceEvent'
      AND json_extract_string(request_parameters, '$.aliasName') IS NOT NULL
),
refs AS (
    SELECT identity_arn, account_id, aws_region, event_time, key_arn,
           coalesce(json_extract_string(request_parameters, '$.keyId'),
                    json_extract_string(request_parameters, '$.destinationKeyId')) AS ref
    FROM kms_events
    WHERE coalesce(event_type, '') <> 'AwsServiceEvent'
      AND identity_arn IS NOT NULL
      AND event_name NOT IN ('CreateAlias', 'UpdateAlias', 'DeleteAlias')
),
alias_uses AS (
    SELECT identity_arn, account_id, event_time, key_arn,
           CASE WHEN regexp_matches(ref, '^alias/') THEN ref ELSE regexp_extract(ref, ':(alias/.+)$', 1) END AS alias,
           CASE WHEN regexp_matches(ref, '^arn:') THEN split_part(ref, ':', 4) ELSE aws_region END          AS region
    FROM refs
    WHERE regexp_matches(ref, '(^|:)alias/')
),
used AS (
    SELECT c.event_id,
           count(*)                                                          AS calls,
           count(DISTINCT u.identity_arn)                                    AS callers,
           string_agg(DISTINCT u.identity_arn, ', ' ORDER BY u.identity_arn) AS caller_list,
           max_by(u.key_arn, u.event_time)                                   AS old_key
    FROM changes c
    JOIN alias_uses u
      ON u.alias = c.alias
     AND u.region = c.aws_region
     AND u.account_id = c.account_id
     AND u.event_time < c.event_time
     AND u.event_time >= c.event_time - to_days(CAST($lookback_days AS INTEGER))
     AND u.identity_arn <> coalesce(c.identity_arn, '')
    GROUP BY c.event_id
)
SELECT c.identity_arn,
       c.source_ip,
       u.old_key         AS key_arn,
       c.account_id,
       c.event_time      AS first_seen,
       c.event_time      AS last_seen,
       1                 AS event_count,
       CASE WHEN c.event_name = 'UpdateAlias'
            THEN 'UpdateAlias re-pointed ' || c.alias || coalesce(' from ' || u.old_key, '') || ' to ' || coalesce(c.new_target, '(unknown)')
            ELSE 'DeleteAlias deleted ' || c.alias || coalesce(' (it pointed to ' || u.old_key || ')', '') END
         || '; ' || CAST(u.callers AS VARCHAR) || ' other caller(s) used it in ' || CAST(u.calls AS VARCHAR)
         || ' calls in the ' || CAST(CAST($lookback_days AS INTEGER) AS VARCHAR) || ' days before: ' || u.caller_list AS detail
FROM changes c
JOIN used u ON u.event_id = c.event_id
WHERE CAST($since AS TIMESTAMP) IS NULL OR c.event_time >= CAST($since AS TIMESTAMP)
ORDER BY c.event_time, c.alias
