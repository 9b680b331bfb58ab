-- id: pending_deletion_key_use
-- title: Calls to a key that is pending deletion: something still depends on it
-- severity: high
-- description: KMS refuses every use of a key scheduled for deletion (KMSInvalidStateException,
--   "... is pending deletion"); once the waiting period ends the key and everything encrypted
--   under it are gone. Calls refused while the key is pending deletion, by callers other than KMS
--   itself, mean data still depends on it: cancel the deletion (CancelKeyDeletion) while it can be.
--   The key counts as pending deletion when the error message says so ("... is pending deletion."),
--   or, for a record without a message, when its last successful state change before the call was
--   a ScheduleKeyDeletion. Other causes of KMSInvalidStateException (an external key store proxy
--   rejecting a request, a key pending import) do not count. One finding per key
--   and scheduled deletion, with the deletion date, the callers and the operations. $since reports
--   only deletions called for at or after it.
-- attack: T1485, T1490
-- dialect: json_extract_string as in key_loss; max_by and string_agg as in key_loss and new_source_ip.
WITH changes AS (
    SELECT key_arn, event_time, event_name, identity_arn,
           CASE WHEN event_name = 'ScheduleKeyDeletion'
                THEN coalesce(json_extract_string(response_elements, '$.deletionDate'),
                              coalesce(json_extract_string(request_parameters, '$.pendingWindowInDays'), '30')
                                || ' days after ' || strftime(event_time, '%Y-%m-%d %H:%M') || ' UTC') END AS deletion_date
    FROM kms_events
    WHERE error_code IS NULL
      AND key_arn IS NOT NULL
      AND event_name IN ('ScheduleKeyDeletion', 'CancelKeyDeletion', 'DisableKey', 'EnableKey', 'CreateKey', 'DeleteKey')
),
refused AS (
    SELECT e.event_id, e.identity_arn, e.source_ip, e.key_arn, e.account_id, e.event_time, e.event_name,
           e.error_code, e.error_message
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
           max_by(c.event_name, c.event_time)    AS last_change,
           max(c.event_time)                     AS changed_at,
           max_by(c.deletion_date, c.event_time) AS deletion_date,
           max_by(c.identity_arn, c.event_time)  AS changed_by
    FROM refused r
    JOIN changes c ON c.key_arn = r.key_arn AND c.event_time <= r.event_time
    GROUP BY r.event_id
),
pending AS (
    SELECT r.*, s.changed_at,
           CASE WHEN s.last_change = 'ScheduleKeyDeletion' THEN s.deletion_date END AS deletion_date,
           CASE WHEN s.last_change = 'ScheduleKeyDeletion' THEN s.changed_by END    AS changed_by
    FROM refused r
    LEFT JOIN state s ON s.event_id = r.event_id
    WHERE strpos(lower(coalesce(r.error_message, '')), 'pending deletion') > 0
       OR (r.error_message IS NULL AND s.last_change = 'ScheduleKeyDeletion')
)
SELECT CASE WHEN count(DISTINCT identity_arn) = 1 THEN min(identity_arn) END AS identity_arn,
       CASE WHEN count(DISTINCT source_ip) = 1 THEN min(source_ip) END       AS source_ip,
       key_arn,
       min(account_id)                                                        AS account_id,
       min(event_time)                                                        AS first_seen,
       max(event_time)                                                        AS last_seen,
       count(*)                                                               AS event_count,
       CAST(count(*) AS VARCHAR) || ' calls refused while the key is pending deletion'
         || coalesce(' (deletion ' || min(deletion_date) || ', scheduled by ' || min(changed_by) || ')', '')
         || ': ' || string_agg(DISTINCT event_name, ', ' ORDER BY event_name)
         || ' by ' || string_agg(DISTINCT identity_arn, ', ' ORDER BY identity_arn)
         || '; cancel the deletion if the data is still needed' AS detail
FROM pending
GROUP BY key_arn, changed_at
HAVING CAST($since AS TIMESTAMP) IS NULL OR max(event_time) >= CAST($since AS TIMESTAMP)
ORDER BY first_seen, key_arn
