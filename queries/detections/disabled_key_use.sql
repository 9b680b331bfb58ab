-- id: disabled_key_use
-- title: Calls to a disabled key: something still depends on it
-- severity: medium
-- description: KMS refuses every use of a disabled key (DisabledException). Calls refused while the
--   key is disabled, by callers other than KMS itself, mean an application or service still needs
--   it: re-enable it, or find what depends on it before scheduling its deletion. The key counts as
--   disabled when the error is DisabledException or its message says the key is disabled, or, for
--   a record without a message, when its last successful state change before the call was a
--   DisableKey or CancelKeyDeletion (which leaves the key disabled); not when the trail shows it
--   pending deletion (pending_deletion_key_use). Calls refused for a key pending import, or by an
--   external key store proxy, do not count. One finding per key and
--   disabling, with the callers and the operations. $since reports only what was called for at or
--   after it.
-- attack: T1485, T1489
-- dialect: max_by and string_agg as in key_loss and new_source_ip.
WITH changes AS (
    SELECT key_arn, event_time, event_name, identity_arn
    FROM kms_events
    WHERE error_code IS NULL
      AND key_arn IS NOT NULL
      AND event_name IN ('ScheduleKeyDeletion', 'CancelKeyDeletion', 'DisableKey', 'EnableKey', 'CreateKey', 'DeleteKey',
                         'ImportKeyMaterial', 'DeleteImportedKeyMaterial', 'DeleteExpiredKeyMaterial')
),
refused AS (
    SELECT e.event_id, e.identity_arn, e.source_ip, e.key_arn, e.account_id, e.event_time, e.event_name, e.error_code, e.error_message
    FROM kms_events e
    WHERE e.error_code IN ('KMSInvalidStateException', 'DisabledException')
      AND e.key_arn IS NOT NULL
      AND e.identity_arn IS NOT NULL
      AND e.identity_arn NOT IN ('AWS Internal', 'kms.amazonaws.com')
      AND coalesce(e.event_type, '') <> 'AwsServiceEvent'
),
-- The key's last successful state change before each refused call.
state AS (
    SELECT r.event_id,
           max_by(c.event_name, c.event_time)   AS last_change,
           max(c.event_time)                    AS changed_at,
           max_by(c.identity_arn, c.event_time) AS changed_by
    FROM refused r
    JOIN changes c ON c.key_arn = r.key_arn AND c.event_time <= r.event_time
    GROUP BY r.event_id
),
disabled AS (
    SELECT r.*, s.changed_at, s.last_change, s.changed_by
    FROM refused r
    LEFT JOIN state s ON s.event_id = r.event_id
    WHERE coalesce(s.last_change, '') <> 'ScheduleKeyDeletion'
      AND (r.error_code = 'DisabledException'
           OR strpos(lower(coalesce(r.error_message, '')), ' is disabled') > 0
           OR (r.error_message IS NULL AND s.last_change IN ('DisableKey', 'CancelKeyDeletion')))
)
SELECT CASE WHEN count(DISTINCT identity_arn) = 1 THEN min(identity_arn) END AS identity_arn,
       CASE WHEN count(DISTINCT source_ip) = 1 THEN min(source_ip) END       AS source_ip,
       key_arn,
       min(account_id)                                                        AS account_id,
       min(event_time)                                                        AS first_seen,
       max(event_time)                                                        AS last_seen,
       count(*)                                                               AS event_count,
       CAST(count(*) AS VARCHAR) || ' calls refused while the key is disabled'
         || coalesce(' (' || min(last_change) || ' by ' || min(changed_by) || ' at ' || strftime(min(changed_at), '%Y-%m-%d %H:%M:%S') || ' UTC)', '')
         || ': ' || string_agg(DISTINCT event_name, ', ' ORDER BY event_name)
         || ' by ' || string_agg(DISTINCT identity_arn, ', ' ORDER BY identity_arn) AS detail
FROM disabled
GROUP BY key_arn, changed_at
HAVING CAST($since AS TIMESTAMP) IS NULL OR max(event_time) >= CAST($since AS TIMESTAMP)
ORDER BY first_seen, key_arn
