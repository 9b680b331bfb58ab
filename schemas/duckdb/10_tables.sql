-- keytrail's DuckDB schema. Run on every open; every statement is idempotent.

-- One row per KMS CloudTrail event. CloudTrail's eventID is unique, so a row is one eventID;
-- record_hash (of the record's bytes) only keeps apart records that reuse an eventID with other
-- content (hand-made fixtures, edited logs), which would otherwise be silently dropped.
CREATE TABLE IF NOT EXISTS kms_events (
    event_id              VARCHAR   NOT NULL, -- eventID (or 'keytrail:<record_hash>' when a record has none)
    record_hash           VARCHAR   NOT NULL,
    event_time            TIMESTAMP NOT NULL, -- eventTime, UTC
    event_name            VARCHAR   NOT NULL,
    event_type            VARCHAR,            -- AwsApiCall, AwsServiceEvent
    event_version         VARCHAR,
    read_only             BOOLEAN,
    aws_region            VARCHAR,
    account_id            VARCHAR,            -- recipientAccountId: the account the event was delivered to
    principal_type        VARCHAR,            -- userIdentity.type (NULL when the record has none)
    principal_arn         VARCHAR,            -- userIdentity.arn (for an assumed role, the session ARN)
    principal_id          VARCHAR,
    identity_arn          VARCHAR,            -- the stable caller: role ARN for a session, user/root ARN, or the service
    principal_account     VARCHAR,            -- userIdentity.accountId
    user_name             VARCHAR,            -- userIdentity.userName, or the role name for a session
    access_key_id         VARCHAR,
    invoked_by            VARCHAR,            -- userIdentity.invokedBy: the AWS service that called on the principal's behalf
    source_ip             VARCHAR,            -- sourceIPAddress: an IP, or a service name, or 'AWS Internal'
    user_agent            VARCHAR,
    key_arn               VARCHAR,
    key_id                VARCHAR,
    key_account           VARCHAR,
    error_code            VARCHAR,
    error_message         VARCHAR,
    request_id            VARCHAR,
    vpc_endpoint_id       VARCHAR,
    encryption_context    JSON,
    request_parameters    JSON,
    response_elements     JSON,
    additional_event_data JSON,
    resources             JSON,
    source_object         VARCHAR   NOT NULL  -- the s3:// URI or file path the event was read from
);

-- One row per log object looked at. status: ok | quarantined (unreadable, or some records were) |
-- failed (could not be fetched this time: retried by the next run).
CREATE TABLE IF NOT EXISTS ingested_objects (
    object_uri    VARCHAR NOT NULL,
    source        VARCHAR NOT NULL,   -- the SOURCE argument the object was listed under
    object_day    DATE,               -- delivery day from the CloudTrail key layout, when it has one
    etag          VARCHAR,
    size          BIGINT,
    events        INTEGER,
    kms_events    INTEGER,
    status        VARCHAR NOT NULL,
    error         VARCHAR,
    run_id        BIGINT NOT NULL,
    ingested_at   TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS ingest_runs (
    run_id        BIGINT PRIMARY KEY,
    source        VARCHAR NOT NULL,
    started_at    TIMESTAMP NOT NULL,
    finished_at   TIMESTAMP,
    status        VARCHAR NOT NULL,   -- running | ok | partial | failed
    objects       INTEGER,
    events        BIGINT,
    kms_events    BIGINT,
    new_rows      BIGINT,
    quarantined   INTEGER,
    failed        INTEGER
);
