-- id: unused_key_access
-- title: A principal named for use of a key has not used it
-- severity: low
-- description: A user or role that an Allow statement of the key policy or a grant names for use
--   of an enabled customer managed key (Encrypt, Decrypt, ReEncrypt*, GenerateDataKey*), with no
--   call on that key in CloudTrail in the `days` days before the latest audit: access it does not
--   need. A role's sessions count as the role (identity_arn). Only where the ingested history
--   covers those days for the key's account and region (as unused_key). The account root, "*",
--   service principals and service-linked roles (the service manages their access) are left out;
--   access through IAM policies is not judged here.
-- attack: none
-- params: days=90
WITH coverage AS (
    SELECT account_id, aws_region, min(event_time) AS first_event, max(event_time) AS last_event
    FROM kms_events
    GROUP BY account_id, aws_region
),
named AS (
    SELECT k.key_arn, k.account_id, k.audited_at, k.audited_at - to_days(CAST($days AS INTEGER)) AS window_start, a.principal,
           string_agg(DISTINCT CASE WHEN a.via = 'grant' THEN a.detail ELSE 'key policy ' || a.detail END, '; ') AS how
    FROM inventory_current_keys k
    JOIN inventory_access a ON a.run_id = k.run_id AND a.key_arn = k.key_arn
    JOIN coverage c ON c.account_id = k.account_id AND c.aws_region = k.aws_region
    WHERE a.capability = 'use'
      AND a.via IN ('key_policy', 'grant')
      AND regexp_matches(a.principal, '^arn:[^:]+:iam::\d{12}:(role|user)/')
      AND NOT regexp_matches(a.principal, ':role/aws-service-role/')
      AND k.key_manager = 'CUSTOMER'
      AND k.key_state = 'Enabled'
      AND c.first_event <= k.audited_at - to_days(CAST($days AS INTEGER))
      AND c.last_event >= k.audited_at - INTERVAL 2 DAY
    GROUP BY ALL
)
SELECT n.principal AS identity_arn,
       NULL AS source_ip,
       n.key_arn,
       n.account_id,
       n.window_start AS first_seen,
       n.audited_at AS last_seen,
       0 AS event_count,
       'named for use by ' || n.how || ', but no call on the key in the ' || CAST($days AS VARCHAR) || ' days before the audit'
           || coalesce('; last call ' || (SELECT strftime(max(e.event_time), '%Y-%m-%d') FROM kms_events e
                                          WHERE e.key_arn = n.key_arn AND e.identity_arn = n.principal), '; no call in the history') AS detail
FROM named n
WHERE NOT EXISTS (
    SELECT 1 FROM kms_events e
    WHERE e.key_arn = n.key_arn AND e.identity_arn = n.principal AND e.event_time >= n.window_start
)
ORDER BY n.key_arn, n.principal
