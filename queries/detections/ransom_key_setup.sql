-- id: ransom_key_setup
-- title: A key whose material the caller can take away: imported material that expires, an external key store, a policy without the account
-- severity: high
-- description: The KMS ransom pattern as one incident per key: CreateKey with origin EXTERNAL or
--   EXTERNAL_KEY_STORE, GetParametersForImport, ImportKeyMaterial with expirationModel
--   KEY_MATERIAL_EXPIRES and a validTo at most short_days after the import, the key created in an
--   external key store made in the data (CreateCustomKeyStore of type EXTERNAL_KEY_STORE: its proxy
--   endpoint and connectivity in the detail), a key policy that names no account root (only the
--   principals it lists control the key), use of the key (Encrypt, GenerateDataKey*), then
--   DeleteImportedKeyMaterial or the material's expiry (DeleteExpiredKeyMaterial). Each step adds
--   weight: external origin 1, external key store 2, short-lived import 2, policy without the
--   account 2, use 1, destruction 2; 5 or more is high, 3 or 4 medium, less low. A routine BYOK
--   import (material that does not expire or lasts longer than short_days, a policy that keeps the
--   account's administrators) stays low. One finding per key, with every step and who took it.
--   $since reports only incidents with a step at or after it.
-- attack: T1486, T1485, T1531
-- params: short_days=7
-- dialect: json_extract_string as in key_loss; strftime is date_format, TRY_CAST and lpad exist in
--   Trino; regexp_extract gives '' without a match in both (the dialect coalesces); date_diff counts
--   boundaries (the dialect truncates); max_by/min_by skip NULL values in both.
WITH stores AS (
    SELECT json_extract_string(response_elements, '$.customKeyStoreId')        AS store_id,
           min(event_time)                                                      AS store_created,
           min(identity_arn)                                                    AS store_creator,
           min(json_extract_string(request_parameters, '$.xksProxyUriEndpoint')) AS proxy,
           min(json_extract_string(request_parameters, '$.xksProxyConnectivity')) AS connectivity
    FROM kms_events
    WHERE event_name = 'CreateCustomKeyStore'
      AND error_code IS NULL
      AND json_extract_string(request_parameters, '$.customKeyStoreType') = 'EXTERNAL_KEY_STORE'
      AND json_extract_string(response_elements, '$.customKeyStoreId') IS NOT NULL
    GROUP BY json_extract_string(response_elements, '$.customKeyStoreId')
),
candidates AS (
    SELECT DISTINCT key_arn
    FROM kms_events
    WHERE error_code IS NULL
      AND key_arn IS NOT NULL
      AND (event_name IN ('GetParametersForImport', 'ImportKeyMaterial')
           OR (event_name = 'CreateKey' AND json_extract_string(request_parameters, '$.origin') IN ('EXTERNAL', 'EXTERNAL_KEY_STORE')))
),
steps AS (
    SELECT e.key_arn, e.event_name, e.event_time, e.identity_arn, e.source_ip, e.account_id,
           CASE WHEN e.event_name IN ('Encrypt', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext', 'GenerateDataKeyPair',
                                      'GenerateDataKeyPairWithoutPlaintext') THEN 'use'
                WHEN e.event_name IN ('DeleteImportedKeyMaterial', 'DeleteExpiredKeyMaterial') THEN 'destruction'
                ELSE 'setup' END                                                    AS phase,
           json_extract_string(e.request_parameters, '$.origin')                   AS origin,
           json_extract_string(e.request_parameters, '$.customKeyStoreId')         AS store_id,
           json_extract_string(e.request_parameters, '$.policy')                   AS policy,
           json_extract_string(e.request_parameters, '$.expirationModel')          AS expiration_model,
           json_extract_string(e.request_parameters, '$.validTo')                  AS valid_to
    FROM kms_events e
    JOIN candidates c ON c.key_arn = e.key_arn
    WHERE e.error_code IS NULL
      AND e.event_name IN ('CreateKey', 'GetParametersForImport', 'ImportKeyMaterial', 'PutKeyPolicy', 'DeleteImportedKeyMaterial',
                           'DeleteExpiredKeyMaterial', 'Encrypt', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext',
                           'GenerateDataKeyPair', 'GenerateDataKeyPairWithoutPlaintext')
),
-- validTo as CloudTrail writes it ('Jan 1, 2021 8:00:00 PM', with or without the comma after the
-- year) or ISO 8601, read into a time so that its distance from the import is known.
valid AS (
    SELECT s.*,
           CASE WHEN regexp_matches(valid_to, '^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}')
                THEN TRY_CAST(regexp_extract(valid_to, '^(\d{4}-\d{2}-\d{2})', 1) || ' ' || regexp_extract(valid_to, '[T ](\d{2}:\d{2}:\d{2})', 1) AS TIMESTAMP)
                WHEN regexp_matches(valid_to, '^[A-Z][a-z]{2} \d{1,2}, \d{4},{0,1} \d{1,2}:\d{2}:\d{2} [AP]M$')
                THEN TRY_CAST(regexp_extract(valid_to, ', (\d{4})', 1) || '-'
                     || lpad(CAST(CAST((strpos('JanFebMarAprMayJunJulAugSepOctNovDec', substr(valid_to, 1, 3)) + 2) / 3 AS INTEGER) AS VARCHAR), 2, '0') || '-'
                     || lpad(regexp_extract(valid_to, '^[A-Z][a-z]{2} (\d{1,2}),', 1), 2, '0') || ' '
                     || lpad(CAST(CAST(regexp_extract(valid_to, ' (\d{1,2}):\d{2}:\d{2} ', 1) AS INTEGER) % 12
                                  + CASE WHEN regexp_matches(valid_to, 'PM$') THEN 12 ELSE 0 END AS VARCHAR), 2, '0') || ':'
                     || regexp_extract(valid_to, ':(\d{2}:\d{2}) [AP]M$', 1) AS TIMESTAMP)
           END AS valid_until
    FROM steps s
),
per_key AS (
    SELECT v.key_arn,
           min_by(CASE WHEN v.phase = 'setup' THEN v.identity_arn END, v.event_time)           AS identity_arn,
           min_by(CASE WHEN v.phase = 'setup' THEN v.source_ip END, v.event_time)              AS source_ip,
           min(v.account_id)                                                                   AS account_id,
           min(v.event_time)                                                                   AS first_seen,
           max(v.event_time)                                                                   AS last_seen,
           count(*)                                                                            AS event_count,
           max(CASE WHEN v.event_name = 'CreateKey' THEN v.origin END)                         AS origin,
           max(CASE WHEN v.event_name = 'CreateKey' THEN v.store_id END)                       AS store_id,
           sum(CASE WHEN v.event_name = 'GetParametersForImport' THEN 1 ELSE 0 END)            AS import_params,
           sum(CASE WHEN v.event_name = 'ImportKeyMaterial' THEN 1 ELSE 0 END)                 AS imports,
           max_by(CASE WHEN v.event_name = 'ImportKeyMaterial' THEN coalesce(v.expiration_model, 'KEY_MATERIAL_EXPIRES') END, v.event_time) AS expiration_model,
           max_by(CASE WHEN v.event_name = 'ImportKeyMaterial' THEN v.valid_to END, v.event_time)  AS valid_to,
           max_by(CASE WHEN v.event_name = 'ImportKeyMaterial' THEN date_diff('hour', v.event_time, v.valid_until) END, v.event_time) AS hours_valid,
           max_by(CASE WHEN v.event_name IN ('CreateKey', 'PutKeyPolicy') THEN v.policy END, v.event_time) AS policy,
           sum(CASE WHEN v.phase = 'use' THEN 1 ELSE 0 END)                                    AS uses,
           count(DISTINCT CASE WHEN v.phase = 'use' THEN v.identity_arn END)                   AS users,
           string_agg(DISTINCT CASE WHEN v.phase = 'use' THEN v.identity_arn END, ', ' ORDER BY CASE WHEN v.phase = 'use' THEN v.identity_arn END) AS user_list,
           min_by(CASE WHEN v.phase = 'destruction' THEN v.event_name END, v.event_time)       AS destruction,
           min(CASE WHEN v.phase = 'destruction' THEN v.event_time END)                        AS destroyed_at
    FROM valid v
    GROUP BY v.key_arn
),
scored AS (
    SELECT k.*, s.store_created, s.store_creator, s.proxy, s.connectivity,
           CASE WHEN k.origin IN ('EXTERNAL', 'EXTERNAL_KEY_STORE') THEN 1 ELSE 0 END AS w_origin,
           CASE WHEN s.store_id IS NOT NULL THEN 2 ELSE 0 END AS w_store,
           CASE WHEN k.expiration_model = 'KEY_MATERIAL_EXPIRES' AND k.hours_valid IS NOT NULL
                     AND k.hours_valid <= CAST($short_days AS INTEGER) * 24 THEN 2 ELSE 0 END AS w_expiry,
           CASE WHEN k.policy IS NOT NULL AND NOT regexp_matches(k.policy, ':root"|"\d{12}"') THEN 2 ELSE 0 END AS w_policy,
           CASE WHEN k.uses > 0 THEN 1 ELSE 0 END AS w_use,
           CASE WHEN k.destruction IS NOT NULL THEN 2 ELSE 0 END AS w_destruction
    FROM per_key k
    LEFT JOIN stores s ON s.store_id = k.store_id
)
SELECT identity_arn,
       source_ip,
       key_arn,
       account_id,
       CASE WHEN store_created < first_seen THEN store_created ELSE first_seen END AS first_seen,
       last_seen,
       event_count,
       substr(
         CASE WHEN origin IS NOT NULL THEN '; created with origin ' || origin ELSE '' END
         || CASE WHEN store_created IS NOT NULL
                 THEN '; in external key store ' || store_id || ' created ' || strftime(store_created, '%Y-%m-%d %H:%M')
                      || coalesce(' by ' || store_creator, '') || coalesce(' (proxy ' || proxy || coalesce(', ' || connectivity, '') || ')', '')
                 ELSE '' END
         || CASE WHEN import_params > 0 THEN '; import parameters fetched ' || CAST(import_params AS VARCHAR) || 'x' ELSE '' END
         || CASE WHEN imports > 0
                 THEN '; key material imported (' || expiration_model || coalesce(', valid to ' || valid_to, '')
                      || CASE WHEN hours_valid IS NOT NULL AND expiration_model = 'KEY_MATERIAL_EXPIRES'
                              THEN ': ' || CAST(hours_valid AS VARCHAR) || ' h after the import' ELSE '' END || ')'
                 ELSE '' END
         || CASE WHEN w_policy > 0 THEN '; its key policy names no account root: only the principals it lists control the key' ELSE '' END
         || CASE WHEN uses > 0 THEN '; used ' || CAST(uses AS VARCHAR) || 'x by ' || user_list ELSE '' END
         || CASE WHEN destruction IS NOT NULL THEN '; then ' || destruction || ' at ' || strftime(destroyed_at, '%Y-%m-%d %H:%M') ELSE '' END,
         3) || ' (weight ' || CAST(w_origin + w_store + w_expiry + w_policy + w_use + w_destruction AS VARCHAR) || ')' AS detail,
       CASE WHEN w_origin + w_store + w_expiry + w_policy + w_use + w_destruction >= 5 THEN 'high'
            WHEN w_origin + w_store + w_expiry + w_policy + w_use + w_destruction >= 3 THEN 'medium'
            ELSE 'low' END AS severity
FROM scored
WHERE CAST($since AS TIMESTAMP) IS NULL OR last_seen >= CAST($since AS TIMESTAMP)
ORDER BY first_seen, key_arn
