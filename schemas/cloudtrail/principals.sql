-- The principals directory, learned from CloudTrail records of any service: an IAM unique id
-- (AROA… for a role, AIDA… for a user) and the ARN it belongs to. An assumed-role session names its
-- role in sessionContext.sessionIssuer; an IAM user names itself. Unique ids are never reused, so
-- one id has one ARN. {{records}} as in normalize.sql. Used by the local ingest (into the
-- principals table) and translated for Athena (a view over the raw CloudTrail table).
SELECT unique_id,
       max(arn)            AS arn,
       max(account_id)     AS account_id,
       max(principal_type) AS principal_type,
       min(seen)           AS first_seen
FROM (
    SELECT r.useridentity.sessioncontext.sessionissuer.principalid AS unique_id,
           r.useridentity.sessioncontext.sessionissuer.arn         AS arn,
           r.useridentity.sessioncontext.sessionissuer.accountid   AS account_id,
           r.useridentity.sessioncontext.sessionissuer.type        AS principal_type,
           CAST(TRY_CAST(r.eventtime AS TIMESTAMPTZ) AT TIME ZONE 'UTC' AS TIMESTAMP) AS seen
    FROM {{records}} r
    WHERE regexp_matches(r.useridentity.sessioncontext.sessionissuer.principalid, '^[A-Z0-9]+$')
      AND starts_with(r.useridentity.sessioncontext.sessionissuer.arn, 'arn:')
    UNION ALL
    SELECT r.useridentity.principalid, r.useridentity.arn, r.useridentity.accountid, r.useridentity.type,
           CAST(TRY_CAST(r.eventtime AS TIMESTAMPTZ) AT TIME ZONE 'UTC' AS TIMESTAMP)
    FROM {{records}} r
    WHERE r.useridentity.type = 'IAMUser'
      AND regexp_matches(r.useridentity.principalid, '^[A-Z0-9]+$')
      AND starts_with(r.useridentity.arn, 'arn:')
) learned
GROUP BY unique_id
