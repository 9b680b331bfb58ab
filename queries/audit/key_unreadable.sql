-- id: key_unreadable
-- title: Part of a key's configuration could not be read
-- severity: medium
-- description: The calls that failed for a key in its latest audit (AccessDenied on its policy, a
--   key deleted during the run, a custom key store that is disconnected ...), with KMS's error:
--   the checks could not judge what was not read. Also an account or region of the latest run that
--   could not be listed at all, or whose IAM could not be read (key_arn empty: then who IAM lets
--   use the keys is not known, and keytrail keys access lists the account root in its place).
-- attack: T1562
SELECT NULL AS identity_arn,
       NULL AS source_ip,
       k.key_arn,
       k.account_id,
       k.audited_at AS first_seen,
       k.audited_at AS last_seen,
       count(*) AS event_count,
       string_agg(e.operation || ': ' || coalesce(e.error_code, '?') || ' (' || coalesce(e.error_message, '') || ')', '; ' ORDER BY e.operation) AS detail
FROM inventory_current_keys k
JOIN inventory_errors e ON e.run_id = k.run_id AND e.key_arn = k.key_arn
GROUP BY k.key_arn, k.account_id, k.audited_at
UNION ALL
SELECT NULL, NULL, NULL, e.account_id, r.started_at, r.started_at, 1,
       coalesce(nullif(e.aws_region, '') || ': ', '') || e.operation || ': ' || coalesce(e.error_code, '?') || ' (' || coalesce(e.error_message, '') || ')'
FROM inventory_errors e
JOIN inventory_runs r ON r.run_id = e.run_id
WHERE e.key_arn IS NULL
  AND e.run_id = (SELECT max(run_id) FROM inventory_runs)
ORDER BY 3, 4
