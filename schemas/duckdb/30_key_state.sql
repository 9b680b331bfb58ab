-- Key state over time: one row per key seen in kms_events, as its last recorded events leave it.
--
--   key_state            Enabled | Disabled | PendingDeletion | PendingReplicaDeletion | PendingImport |
--                        Deleted, from the key's last successful state change (CreateKey, EnableKey,
--                        DisableKey, ScheduleKeyDeletion, CancelKeyDeletion, DeleteKey, ImportKeyMaterial,
--                        DeleteImportedKeyMaterial, DeleteExpiredKeyMaterial); 'Enabled' when the trail
--                        holds no state change but successful cryptographic use; NULL when unknown.
--   deletion_date        when a pending deletion completes: responseElements.deletionDate, else the
--                        request time + pendingWindowInDays (default 30).
--   rotation             'on' / 'off' from the last EnableKeyRotation / DisableKeyRotation; 'on' when the
--                        trail holds only KMS's own RotateKey events; NULL when unknown.
--   origin               AWS_KMS | EXTERNAL | AWS_CLOUDHSM | EXTERNAL_KEY_STORE from CreateKey, else
--                        EXTERNAL when key material was imported; NULL when unknown.
--   material_expires     validTo of the last ImportKeyMaterial (KEY_MATERIAL_EXPIRES), unless the
--                        material was deleted after it.
--   last_policy_change   the last successful PutKeyPolicy (or CreateKey with a policy), and by whom.
--   callers_30d/calls_30d  distinct callers and calls in the 30 days up to the newest event in the
--                        table (the trail's "now", so an old trail reads as it did then); KMS's own
--                        service events are not calls.

CREATE OR REPLACE VIEW kms_key_state AS
WITH keyed AS NOT MATERIALIZED (
    SELECT * FROM kms_events WHERE key_arn IS NOT NULL
),
-- CloudTrail writes dates as 'Nov 2, 2021, 11:25:25 PM' (older records: 'Jan 1, 2019 12:00:00 AM').
state_changes AS (
    SELECT key_arn, event_time, event_name, identity_arn,
           CASE event_name
               WHEN 'CreateKey' THEN coalesce(
                   json_extract_string(response_elements, '$.keyMetadata.keyState'),
                   CASE WHEN upper(json_extract_string(request_parameters, '$.origin')) = 'EXTERNAL' THEN 'PendingImport' ELSE 'Enabled' END)
               WHEN 'EnableKey' THEN 'Enabled'
               WHEN 'DisableKey' THEN 'Disabled'
               WHEN 'ScheduleKeyDeletion' THEN coalesce(json_extract_string(response_elements, '$.keyState'), 'PendingDeletion')
               WHEN 'CancelKeyDeletion' THEN 'Disabled'
               WHEN 'DeleteKey' THEN 'Deleted'
               WHEN 'ImportKeyMaterial' THEN 'Enabled'
               ELSE 'PendingImport' -- DeleteImportedKeyMaterial, DeleteExpiredKeyMaterial
           END AS state,
           CASE WHEN event_name = 'ScheduleKeyDeletion' THEN coalesce(
               try_strptime(json_extract_string(response_elements, '$.deletionDate'),
                            ['%b %d, %Y, %I:%M:%S %p', '%b %d, %Y %I:%M:%S %p', '%Y-%m-%dT%H:%M:%SZ', '%Y-%m-%dT%H:%M:%S.%fZ']),
               event_time + to_days(coalesce(
                   try_cast(json_extract_string(request_parameters, '$.pendingWindowInDays') AS INTEGER),
                   try_cast(json_extract_string(response_elements, '$.pendingWindowInDays') AS INTEGER),
                   30)))
           END AS deletion_date,
           -- Among changes logged in the same second, the later step of a key's life wins.
           CASE event_name WHEN 'DeleteKey' THEN 9 WHEN 'ScheduleKeyDeletion' THEN 8 WHEN 'DisableKey' THEN 7
                           WHEN 'CancelKeyDeletion' THEN 6 ELSE 5 END AS tie
    FROM keyed
    WHERE error_code IS NULL
      AND event_name IN ('CreateKey', 'EnableKey', 'DisableKey', 'ScheduleKeyDeletion', 'CancelKeyDeletion', 'DeleteKey',
                         'ImportKeyMaterial', 'DeleteImportedKeyMaterial', 'DeleteExpiredKeyMaterial')
),
last_state AS (
    SELECT key_arn, state, deletion_date, event_time AS state_changed_at, event_name AS state_changed_by_event
    FROM (SELECT *, row_number() OVER (PARTITION BY key_arn ORDER BY event_time DESC, tie DESC) AS rn FROM state_changes)
    WHERE rn = 1
),
rotation AS (
    SELECT key_arn,
           arg_max(CASE event_name WHEN 'EnableKeyRotation' THEN 'on' ELSE 'off' END, event_time)
               FILTER (WHERE event_name IN ('EnableKeyRotation', 'DisableKeyRotation')) AS explicit,
           max(event_time) FILTER (WHERE event_name IN ('EnableKeyRotation', 'DisableKeyRotation')) AS explicit_at,
           max(event_time) FILTER (WHERE event_name = 'RotateKey') AS rotated_at
    FROM keyed
    WHERE error_code IS NULL AND event_name IN ('EnableKeyRotation', 'DisableKeyRotation', 'RotateKey')
    GROUP BY key_arn
),
material AS (
    SELECT key_arn,
           max(event_time) FILTER (WHERE event_name = 'ImportKeyMaterial') AS imported_at,
           max(event_time) FILTER (WHERE event_name <> 'ImportKeyMaterial') AS deleted_at,
           -- arg_max_null: the last import decides, even when its material does not expire (NULL).
           arg_max_null(CASE WHEN coalesce(json_extract_string(request_parameters, '$.expirationModel'), 'KEY_MATERIAL_EXPIRES') = 'KEY_MATERIAL_EXPIRES'
                             THEN try_strptime(json_extract_string(request_parameters, '$.validTo'),
                                               ['%b %d, %Y, %I:%M:%S %p', '%b %d, %Y %I:%M:%S %p', '%Y-%m-%dT%H:%M:%SZ', '%Y-%m-%dT%H:%M:%S.%fZ'])
                        END, event_time) FILTER (WHERE event_name = 'ImportKeyMaterial') AS expires
    FROM keyed
    WHERE error_code IS NULL AND event_name IN ('ImportKeyMaterial', 'DeleteImportedKeyMaterial', 'DeleteExpiredKeyMaterial')
    GROUP BY key_arn
),
created AS (
    SELECT key_arn,
           arg_max(upper(coalesce(json_extract_string(response_elements, '$.keyMetadata.origin'),
                                  json_extract_string(request_parameters, '$.origin'), 'AWS_KMS')), event_time) AS origin
    FROM keyed
    WHERE error_code IS NULL AND event_name = 'CreateKey'
    GROUP BY key_arn
),
policy AS (
    SELECT key_arn, max(event_time) AS last_policy_change, arg_max(identity_arn, event_time) AS last_policy_changed_by
    FROM keyed
    WHERE error_code IS NULL
      AND (event_name = 'PutKeyPolicy' OR (event_name = 'CreateKey' AND json_extract_string(request_parameters, '$.policy') IS NOT NULL))
    GROUP BY key_arn
),
latest AS (
    SELECT max(event_time) AS now FROM kms_events
),
seen AS (
    SELECT k.key_arn,
           any_value(k.key_id)      AS key_id,
           any_value(k.key_account) AS key_account,
           any_value(split_part(k.key_arn, ':', 4)) AS aws_region,
           min(k.event_time)        AS first_seen,
           max(k.event_time)        AS last_seen,
           count(DISTINCT k.identity_arn) FILTER (WHERE k.event_time > n.now - INTERVAL 30 DAY AND coalesce(k.event_type, '') <> 'AwsServiceEvent') AS callers_30d,
           count(*) FILTER (WHERE k.event_time > n.now - INTERVAL 30 DAY AND coalesce(k.event_type, '') <> 'AwsServiceEvent') AS calls_30d,
           bool_or(k.error_code IS NULL AND k.event_name IN (
               'Encrypt', 'Decrypt', 'ReEncrypt', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext', 'GenerateDataKeyPair',
               'GenerateDataKeyPairWithoutPlaintext', 'Sign', 'Verify', 'GenerateMac', 'VerifyMac', 'DeriveSharedSecret')) AS used,
           bool_or(k.event_name IN ('GetParametersForImport', 'ImportKeyMaterial', 'DeleteImportedKeyMaterial', 'DeleteExpiredKeyMaterial')) AS imports
    FROM keyed k
    CROSS JOIN latest n
    GROUP BY k.key_arn
)
SELECT s.key_arn,
       s.key_id,
       s.key_account,
       s.aws_region,
       s.first_seen,
       s.last_seen,
       coalesce(ls.state, CASE WHEN s.used THEN 'Enabled' END) AS key_state,
       ls.state_changed_at,
       CASE WHEN ls.state IN ('PendingDeletion', 'PendingReplicaDeletion') THEN ls.deletion_date END AS deletion_date,
       coalesce(r.explicit, CASE WHEN r.rotated_at IS NOT NULL THEN 'on' END) AS rotation,
       coalesce(r.explicit_at, r.rotated_at) AS rotation_changed_at,
       coalesce(cr.origin, CASE WHEN s.imports THEN 'EXTERNAL' END) AS origin,
       CASE WHEN m.deleted_at IS NULL OR m.imported_at > m.deleted_at THEN m.expires END AS material_expires,
       p.last_policy_change,
       p.last_policy_changed_by,
       s.callers_30d,
       s.calls_30d
FROM seen s
LEFT JOIN last_state ls ON ls.key_arn = s.key_arn
LEFT JOIN rotation r ON r.key_arn = s.key_arn
LEFT JOIN material m ON m.key_arn = s.key_arn
LEFT JOIN created cr ON cr.key_arn = s.key_arn
LEFT JOIN policy p ON p.key_arn = s.key_arn;
