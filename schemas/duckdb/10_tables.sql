-- keytrail's DuckDB schema. Run on every open; every statement is idempotent.

-- One row per KMS CloudTrail event, however often it was delivered. CloudTrail's eventID is
-- unique, so a row is one eventID; record_hash (MD5 of the record's bytes) only keeps apart records
-- that reuse an eventID with other content (hand-made fixtures, edited logs), which would
-- otherwise be silently dropped. event_key is the two in one 128-bit number. It has no index on
-- purpose: an index over every event ever stored made each ingest cost more than the last and
-- ran out of memory at 4M events. The one statement that inserts rows (src/store/load.ts) refuses
-- a key already present among the rows of the same event time, which is where any copy of an event
-- lies (same record, same eventTime); rows go in in time order, so DuckDB's zone maps skip every
-- other row group. The rows come from schemas/cloudtrail/normalize.sql, the one mapping of a record
-- to a row (Athena's view too).
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
    identity_arn          VARCHAR,            -- the stable caller, the same across sessions (README: "Who is the caller")
    session_name          VARCHAR,            -- the session behind an assumed role / cross-account caller / federated user
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
    source_object         VARCHAR   NOT NULL, -- the s3:// URI or file path the event was first read from
    event_key             UHUGEINT  NOT NULL  -- md5_number(event_id || '|' || record_hash), unique (see above)
);

-- The trail's own management events (eventSource cloudtrail.amazonaws.com: StopLogging,
-- PutEventSelectors, DeleteTrail ...), in the shape of kms_events, for the tampering detections.
CREATE TABLE IF NOT EXISTS trail_events AS SELECT * FROM kms_events LIMIT 0;

-- Other objects that delivered an event already stored (CloudTrail delivers some events twice):
-- when an object is read again, an event it shared with another object stays, attributed to that one.
CREATE TABLE IF NOT EXISTS event_redeliveries (
    event_id      VARCHAR NOT NULL,
    record_hash   VARCHAR NOT NULL,
    object_uri    VARCHAR NOT NULL,
    PRIMARY KEY (event_id, record_hash, object_uri)
);

-- Who is AROA…? The principals directory: IAM unique ids (roles' AROA…, users' AIDA…) with the ARN
-- they belong to, learned from every record ingested (sessionContext.sessionIssuer, IAM users), of
-- every account of the trail. It turns a cross-account caller (userIdentity.type AWSAccount,
-- principalId 'AROA…:session', no ARN) into its role.
CREATE TABLE IF NOT EXISTS principals (
    unique_id       VARCHAR PRIMARY KEY,
    arn             VARCHAR NOT NULL,
    account_id      VARCHAR,
    principal_type  VARCHAR,          -- Role | IAMUser
    first_seen      TIMESTAMP,        -- first event time it was seen at
    learned_in_run  BIGINT
);

-- One row per log object looked at. status: ok | quarantined (unreadable, or some records were) |
-- failed (could not be fetched this time: retried by the next run) | unreadable (can never be
-- fetched as things stand: 403, 404; reported, but no longer where the next run resumes from).
-- Times are UTC.
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
    ingested_at   TIMESTAMP NOT NULL    -- one row per object_uri: a re-read replaces its row
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

-- How far each stream of a source (an account and region folder of the CloudTrail layout, or a
-- region of Event history) has been read: every object of it delivered from listed_from through
-- complete_through, as listed by run_id, is in ingested_objects (NULL listed_from: from its first
-- day). A run without --since lists each stream from a lookback before complete_through, and a
-- stream that has no row from its first day (src/store/streams.ts).
CREATE TABLE IF NOT EXISTS ingest_streams (
    source            VARCHAR NOT NULL,
    stream            VARCHAR NOT NULL,
    listed_from       DATE,
    complete_through  DATE NOT NULL,
    run_id            BIGINT NOT NULL,
    updated_at        TIMESTAMP NOT NULL,
    PRIMARY KEY (source, stream)
);
