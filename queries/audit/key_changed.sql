-- id: key_changed
-- title: A key changed since the previous audit
-- severity: low
-- description: What changed between the two latest audits of the same account and region: keys
--   created or gone, state changes (with the deletion date of a key scheduled for deletion), a
--   policy that changed, rotation turned on or off or its period changed, grants added or removed,
--   aliases and tags. One finding per key; first_seen and last_seen are the two audits. Parts that
--   could not be read in either audit are not compared.
-- attack: T1098
WITH pairs AS (
    SELECT c.account_id, c.aws_region, c.run_id AS cur_run, p.run_id AS prev_run,
           rc.started_at AS cur_at, rp.started_at AS prev_at
    FROM inventory_current_scopes c
    JOIN inventory_previous_scopes p ON p.account_id = c.account_id AND p.aws_region = c.aws_region
    JOIN inventory_runs rc ON rc.run_id = c.run_id
    JOIN inventory_runs rp ON rp.run_id = p.run_id
),
cur AS (
    SELECT k.*, pr.prev_run, pr.cur_at, pr.prev_at FROM inventory_keys k
    JOIN pairs pr ON k.run_id = pr.cur_run AND k.account_id = pr.account_id AND k.aws_region = pr.aws_region
),
prev AS (
    SELECT k.*, pr.cur_run, pr.cur_at, pr.prev_at FROM inventory_keys k
    JOIN pairs pr ON k.run_id = pr.prev_run AND k.account_id = pr.account_id AND k.aws_region = pr.aws_region
),
both_runs AS (
    SELECT c.key_arn, c.account_id, c.run_id AS cur_run, p.run_id AS prev_run, c.cur_at, c.prev_at,
           p.key_state AS old_state, c.key_state AS new_state, c.deletion_date
    FROM cur c JOIN prev p ON p.key_arn = c.key_arn
),
-- A list that could not be read in a run says nothing about what it holds.
readable AS (
    SELECT b.*,
           NOT EXISTS (SELECT 1 FROM inventory_errors e WHERE e.key_arn = b.key_arn AND e.run_id IN (b.cur_run, b.prev_run) AND e.operation = 'ListGrants') AS grants_read,
           NOT EXISTS (SELECT 1 FROM inventory_errors e WHERE e.key_arn = b.key_arn AND e.run_id IN (b.cur_run, b.prev_run) AND e.operation = 'ListResourceTags') AS tags_read
    FROM both_runs b
),
changes AS (
    SELECT c.key_arn, c.account_id, c.prev_at, c.cur_at, 'new key (' || coalesce(c.key_state, 'state unknown') || ')' AS what
    FROM cur c WHERE NOT EXISTS (SELECT 1 FROM prev p WHERE p.key_arn = c.key_arn)
    UNION ALL
    SELECT p.key_arn, p.account_id, p.prev_at, p.cur_at, 'no longer listed (deleted)'
    FROM prev p WHERE NOT EXISTS (SELECT 1 FROM cur c WHERE c.key_arn = p.key_arn)
    UNION ALL
    SELECT key_arn, account_id, prev_at, cur_at,
           'state ' || old_state || ' -> ' || new_state
               || CASE WHEN new_state = 'PendingDeletion' THEN coalesce(' (deletion on ' || strftime(deletion_date, '%Y-%m-%d') || ')', '') ELSE '' END
    FROM both_runs WHERE old_state IS DISTINCT FROM new_state AND old_state IS NOT NULL AND new_state IS NOT NULL
    UNION ALL
    SELECT b.key_arn, b.account_id, b.prev_at, b.cur_at, 'key policy changed'
    FROM both_runs b
    JOIN inventory_policies pc ON pc.run_id = b.cur_run AND pc.key_arn = b.key_arn
    JOIN inventory_policies pp ON pp.run_id = b.prev_run AND pp.key_arn = b.key_arn
    WHERE json(pc.policy) IS DISTINCT FROM json(pp.policy)
    UNION ALL
    SELECT b.key_arn, b.account_id, b.prev_at, b.cur_at,
           CASE WHEN rc.rotation_enabled IS DISTINCT FROM rp.rotation_enabled
                THEN 'rotation ' || CASE WHEN rp.rotation_enabled THEN 'on' ELSE 'off' END || ' -> ' || CASE WHEN rc.rotation_enabled THEN 'on' ELSE 'off' END
                ELSE 'rotation period ' || CAST(rp.rotation_period_days AS VARCHAR) || ' -> ' || CAST(rc.rotation_period_days AS VARCHAR) || ' days' END
    FROM both_runs b
    JOIN inventory_rotation rc ON rc.run_id = b.cur_run AND rc.key_arn = b.key_arn
    JOIN inventory_rotation rp ON rp.run_id = b.prev_run AND rp.key_arn = b.key_arn
    WHERE rc.rotation_supported AND rp.rotation_supported
      -- KMS answers "off" for a key pending deletion: the state change says it.
      AND b.new_state IS DISTINCT FROM 'PendingDeletion' AND b.old_state IS DISTINCT FROM 'PendingDeletion'
      AND (rc.rotation_enabled IS DISTINCT FROM rp.rotation_enabled
           OR (rc.rotation_enabled AND rp.rotation_enabled AND rc.rotation_period_days IS DISTINCT FROM rp.rotation_period_days))
    UNION ALL
    SELECT b.key_arn, b.account_id, b.prev_at, b.cur_at,
           'new grant ' || g.grant_id || ' to ' || coalesce(g.grantee_principal, '?') || ' (' || array_to_string(g.operations, ', ') || ')'
    FROM readable b JOIN inventory_grants g ON g.run_id = b.cur_run AND g.key_arn = b.key_arn
    WHERE b.grants_read AND NOT EXISTS (SELECT 1 FROM inventory_grants o WHERE o.run_id = b.prev_run AND o.key_arn = b.key_arn AND o.grant_id = g.grant_id)
    UNION ALL
    SELECT b.key_arn, b.account_id, b.prev_at, b.cur_at, 'grant ' || g.grant_id || ' to ' || coalesce(g.grantee_principal, '?') || ' removed'
    FROM readable b JOIN inventory_grants g ON g.run_id = b.prev_run AND g.key_arn = b.key_arn
    WHERE b.grants_read AND NOT EXISTS (SELECT 1 FROM inventory_grants o WHERE o.run_id = b.cur_run AND o.key_arn = b.key_arn AND o.grant_id = g.grant_id)
    UNION ALL
    SELECT b.key_arn, b.account_id, b.prev_at, b.cur_at, 'alias ' || a.alias_name || ' added'
    FROM both_runs b JOIN inventory_aliases a ON a.run_id = b.cur_run AND a.target_key_arn = b.key_arn
    WHERE NOT EXISTS (SELECT 1 FROM inventory_aliases o WHERE o.run_id = b.prev_run AND o.target_key_arn = b.key_arn AND o.alias_name = a.alias_name)
    UNION ALL
    SELECT b.key_arn, b.account_id, b.prev_at, b.cur_at, 'alias ' || a.alias_name || ' removed'
    FROM both_runs b JOIN inventory_aliases a ON a.run_id = b.prev_run AND a.target_key_arn = b.key_arn
    WHERE NOT EXISTS (SELECT 1 FROM inventory_aliases o WHERE o.run_id = b.cur_run AND o.target_key_arn = b.key_arn AND o.alias_name = a.alias_name)
    UNION ALL
    SELECT b.key_arn, b.account_id, b.prev_at, b.cur_at, 'tags ' || coalesce(t.old_tags, '(none)') || ' -> ' || coalesce(t.new_tags, '(none)')
    FROM readable b,
         LATERAL (SELECT (SELECT string_agg(tag_key || '=' || coalesce(tag_value, ''), ', ' ORDER BY tag_key) FROM inventory_tags WHERE run_id = b.prev_run AND key_arn = b.key_arn) AS old_tags,
                         (SELECT string_agg(tag_key || '=' || coalesce(tag_value, ''), ', ' ORDER BY tag_key) FROM inventory_tags WHERE run_id = b.cur_run AND key_arn = b.key_arn) AS new_tags) t
    WHERE b.tags_read AND t.old_tags IS DISTINCT FROM t.new_tags
)
SELECT NULL AS identity_arn,
       NULL AS source_ip,
       key_arn,
       account_id,
       min(prev_at) AS first_seen,
       max(cur_at) AS last_seen,
       count(*) AS event_count,
       string_agg(what, '; ' ORDER BY what) AS detail
FROM changes
GROUP BY key_arn, account_id
ORDER BY key_arn
