-- section: key_state
-- title: Key state
-- description: Each key's state as its last recorded events leave it (the kms_key_state view: as of
--   the newest event in the database, not only the report's period). Joined to the keys section
--   by key_arn. Skipped, and the report says so, when the database has no kms_key_state view.
-- requires: kms_key_state
SELECT key_arn,
       key_state,
       rotation,
       origin,
       deletion_date,
       material_expires,
       last_policy_change,
       last_policy_changed_by
FROM kms_key_state
WHERE ($account IS NULL OR key_account = $account
       OR key_arn IN (SELECT key_arn FROM kms_events WHERE account_id = $account))
