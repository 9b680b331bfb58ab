-- The live KMS inventory (keytrail keys audit): one snapshot per run, beside the CloudTrail history.
--
--   inventory_runs      one row per audit run; run_id grows by one per run. Times are UTC.
--   inventory_scopes    the accounts and regions a run read, each 'ok' (ListKeys and ListAliases read
--                       to the end) or 'failed' (with the error): a snapshot only speaks for its scopes.
--   inventory_keys      DescribeKey per key (metadata as KMS returned it, plus the columns checks use);
--                       a key whose DescribeKey failed keeps its ARN and NULL metadata.
--   inventory_aliases   ListAliases per scope (aliases without a target key included).
--   inventory_policies  GetKeyPolicy (the 'default' policy, as text).
--   inventory_rotation  GetKeyRotationStatus: rotation_supported false when KMS answered
--                       UnsupportedOperationException (asymmetric, HMAC, imported, custom key store).
--   inventory_grants    ListGrants; inventory_tags: ListResourceTags.
--   inventory_errors    every call that failed for a key (or a scope: key_arn NULL), with KMS's error.
-- Views: inventory_current_scopes (the latest 'ok' run per account and region), inventory_previous_scopes
-- (the one before it), inventory_current_keys (the keys of the current scopes, with audited_at).

CREATE TABLE IF NOT EXISTS inventory_runs (
    run_id          INTEGER PRIMARY KEY,
    started_at      TIMESTAMP NOT NULL,
    finished_at     TIMESTAMP,
    keys            INTEGER,
    unreadable_keys INTEGER,
    options         JSON
);

CREATE TABLE IF NOT EXISTS inventory_scopes (
    run_id     INTEGER NOT NULL,
    account_id VARCHAR NOT NULL,
    aws_region VARCHAR NOT NULL,
    status     VARCHAR NOT NULL,
    error      VARCHAR,
    PRIMARY KEY (run_id, account_id, aws_region)
);

CREATE TABLE IF NOT EXISTS inventory_keys (
    run_id              INTEGER NOT NULL,
    key_arn             VARCHAR NOT NULL,
    key_id              VARCHAR NOT NULL,
    account_id          VARCHAR NOT NULL,
    aws_region          VARCHAR NOT NULL,
    key_state           VARCHAR,
    enabled             BOOLEAN,
    key_manager         VARCHAR,
    key_spec            VARCHAR,
    key_usage           VARCHAR,
    origin              VARCHAR,
    description         VARCHAR,
    creation_date       TIMESTAMP,
    deletion_date       TIMESTAMP,
    valid_to            TIMESTAMP,
    expiration_model    VARCHAR,
    custom_key_store_id VARCHAR,
    multi_region        BOOLEAN,
    metadata            JSON,
    PRIMARY KEY (run_id, key_arn)
);

CREATE TABLE IF NOT EXISTS inventory_aliases (
    run_id         INTEGER NOT NULL,
    account_id     VARCHAR NOT NULL,
    aws_region     VARCHAR NOT NULL,
    alias_name     VARCHAR NOT NULL,
    alias_arn      VARCHAR,
    target_key_arn VARCHAR
);

CREATE TABLE IF NOT EXISTS inventory_policies (
    run_id      INTEGER NOT NULL,
    key_arn     VARCHAR NOT NULL,
    policy_name VARCHAR NOT NULL,
    policy      VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS inventory_rotation (
    run_id               INTEGER NOT NULL,
    key_arn              VARCHAR NOT NULL,
    rotation_supported   BOOLEAN NOT NULL,
    rotation_enabled     BOOLEAN,
    rotation_period_days INTEGER,
    next_rotation_date   TIMESTAMP
);

CREATE TABLE IF NOT EXISTS inventory_grants (
    run_id             INTEGER NOT NULL,
    key_arn            VARCHAR NOT NULL,
    grant_id           VARCHAR NOT NULL,
    grant_name         VARCHAR,
    grantee_principal  VARCHAR,
    retiring_principal VARCHAR,
    issuing_account    VARCHAR,
    operations         VARCHAR[],
    constraints        JSON,
    creation_date      TIMESTAMP
);

CREATE TABLE IF NOT EXISTS inventory_tags (
    run_id    INTEGER NOT NULL,
    key_arn   VARCHAR NOT NULL,
    tag_key   VARCHAR NOT NULL,
    tag_value VARCHAR
);

CREATE TABLE IF NOT EXISTS inventory_errors (
    run_id        INTEGER NOT NULL,
    account_id    VARCHAR NOT NULL,
    aws_region    VARCHAR NOT NULL,
    key_arn       VARCHAR,
    operation     VARCHAR NOT NULL,
    error_code    VARCHAR,
    error_message VARCHAR
);

CREATE OR REPLACE VIEW inventory_current_scopes AS
SELECT account_id, aws_region, max(run_id) AS run_id
FROM inventory_scopes
WHERE status = 'ok'
GROUP BY account_id, aws_region;

CREATE OR REPLACE VIEW inventory_previous_scopes AS
SELECT s.account_id, s.aws_region, max(s.run_id) AS run_id
FROM inventory_scopes s
JOIN inventory_current_scopes c ON c.account_id = s.account_id AND c.aws_region = s.aws_region AND s.run_id < c.run_id
WHERE s.status = 'ok'
GROUP BY s.account_id, s.aws_region;

CREATE OR REPLACE VIEW inventory_current_keys AS
SELECT k.*, r.started_at AS audited_at
FROM inventory_keys k
JOIN inventory_current_scopes c ON c.run_id = k.run_id AND c.account_id = k.account_id AND c.aws_region = k.aws_region
JOIN inventory_runs r ON r.run_id = k.run_id;

-- IAM of each audited account (GetAccountAuthorizationDetails, every page), read by the same run:
--   inventory_iam              per run and account: status 'ok' or 'failed' (error); a failed read
--                              is also in inventory_errors (aws_region '', key_arn NULL).
--   inventory_iam_entities     users, groups and roles (entity_type), with IAM's unique id and a
--                              user's groups (names).
--   inventory_iam_policies     each policy once: inline (policy_key = entity ARN || '#' || name),
--                              customer_managed or aws_managed (policy_key = its ARN, the default
--                              version's document); documents decoded from IAM's URL encoding.
--   inventory_iam_attachments  which entity has which policy (a group's reach its users through
--                              inventory_iam_entities.groups).
--   inventory_iam_statements   each policy's statements flattened: Action / NotAction, Resource /
--                              NotResource as lists (NULL when absent), conditions as one line.
-- inventory_access: who may use or administer each key (src/kms/access.ts on the run's key policy,
-- grants and IAM): one row per principal, capability ('use' / 'admin'), way in (via 'key_policy',
-- 'iam_policy', 'grant') and source (detail), with the actions and the conditions left undecided.
CREATE TABLE IF NOT EXISTS inventory_iam (
    run_id     INTEGER NOT NULL,
    account_id VARCHAR NOT NULL,
    status     VARCHAR NOT NULL,
    error      VARCHAR
);

CREATE TABLE IF NOT EXISTS inventory_iam_entities (
    run_id      INTEGER NOT NULL,
    account_id  VARCHAR NOT NULL,
    arn         VARCHAR NOT NULL,
    entity_type VARCHAR NOT NULL,
    name        VARCHAR NOT NULL,
    unique_id   VARCHAR,
    groups      VARCHAR[]
);

CREATE TABLE IF NOT EXISTS inventory_iam_policies (
    run_id      INTEGER NOT NULL,
    account_id  VARCHAR NOT NULL,
    policy_key  VARCHAR NOT NULL,
    policy_kind VARCHAR NOT NULL,
    policy_name VARCHAR NOT NULL,
    policy_arn  VARCHAR,
    document    VARCHAR
);

CREATE TABLE IF NOT EXISTS inventory_iam_attachments (
    run_id     INTEGER NOT NULL,
    account_id VARCHAR NOT NULL,
    entity_arn VARCHAR NOT NULL,
    policy_key VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS inventory_iam_statements (
    run_id          INTEGER NOT NULL,
    account_id      VARCHAR NOT NULL,
    policy_key      VARCHAR NOT NULL,
    statement_index INTEGER NOT NULL,
    sid             VARCHAR,
    effect          VARCHAR,
    actions         VARCHAR[],
    not_actions     VARCHAR[],
    resources       VARCHAR[],
    not_resources   VARCHAR[],
    conditions      VARCHAR
);

CREATE TABLE IF NOT EXISTS inventory_access (
    run_id      INTEGER NOT NULL,
    key_arn     VARCHAR NOT NULL,
    principal   VARCHAR NOT NULL,
    capability  VARCHAR NOT NULL,
    via         VARCHAR NOT NULL,
    detail      VARCHAR,
    conditional VARCHAR,
    actions     VARCHAR[]
);
