-- id: unused_key
-- title: A customer managed key nobody has used for a long time still costs money
-- severity: low
-- description: An Enabled or Disabled customer managed key, older than `days` days, with no
--   cryptographic call (kms_event_catalogue category 'data') in CloudTrail in the `days` days before
--   the latest audit. Only where the ingested history covers those days for the key's account and
--   region: its first event is at or before the start of the window and its last within 2 days of
--   the audit. A database without that history says nothing.
-- attack: none
-- params: days=90
WITH coverage AS (
    SELECT account_id, aws_region, min(event_time) AS first_event, max(event_time) AS last_event
    FROM kms_events
    GROUP BY account_id, aws_region
),
candidates AS (
    SELECT k.*, k.audited_at - to_days(CAST($days AS INTEGER)) AS window_start
    FROM inventory_current_keys k
    JOIN coverage c ON c.account_id = k.account_id AND c.aws_region = k.aws_region
    WHERE k.key_manager = 'CUSTOMER'
      AND k.key_state IN ('Enabled', 'Disabled')
      AND c.first_event <= k.audited_at - to_days(CAST($days AS INTEGER))
      AND c.last_event >= k.audited_at - INTERVAL 2 DAY
      AND k.creation_date <= k.audited_at - to_days(CAST($days AS INTEGER))
)
SELECT NULL AS identity_arn,
       NULL AS source_ip,
       k.key_arn,
       k.account_id,
       k.window_start AS first_seen,
       k.audited_at AS last_seen,
       0 AS event_count,
       'no cryptographic use in the ' || CAST($days AS VARCHAR) || ' days before the audit (key is ' || k.key_state || ')'
           || coalesce('; last used ' || (SELECT strftime(max(e.event_time), '%Y-%m-%d') FROM kms_events e
                                          JOIN kms_event_catalogue c ON c.event_name = e.event_name AND c.category = 'data'
                                          WHERE e.key_arn = k.key_arn AND e.error_code IS NULL), '') AS detail
FROM candidates k
WHERE NOT EXISTS (
    SELECT 1 FROM kms_events e
    JOIN kms_event_catalogue c ON c.event_name = e.event_name AND c.category = 'data'
    WHERE e.key_arn = k.key_arn AND e.event_time >= k.window_start AND e.error_code IS NULL
)
ORDER BY k.key_arn
