-- Trust in the logs: what `keytrail verify` (and later `ingest --verify`) found, per object.

-- One row per object checked, the latest result only. object_uri is the same name as in
-- ingested_objects / kms_events.source_object (s3:// URI or absolute file path), so findings can be
-- joined to the verification of the objects they rest on.
-- status: verified (hash matches a digest whose signature and chain check out) | unsigned (hashes
-- and chain check out; the signature could not be checked: a folder has no S3 metadata) |
-- failed (see problem) | unverified (no valid digest vouches for it: outside the digests read, in a
-- delivery gap, or listed by a digest that failed).
CREATE TABLE IF NOT EXISTS verified_objects (
    object_uri      VARCHAR   NOT NULL,
    source          VARCHAR   NOT NULL,  -- the SOURCE argument it was verified under
    kind            VARCHAR   NOT NULL,  -- log | digest
    account_id      VARCHAR,
    aws_region      VARCHAR,
    object_day      DATE,                -- day folder of the key
    status          VARCHAR   NOT NULL,
    problem         VARCHAR,             -- log_modified | log_missing | log_not_listed | digest_missing | digest_modified | digest_signature_invalid
    detail          VARCHAR,
    digest_uri      VARCHAR,             -- for a log: the digest that lists it
    sha256          VARCHAR,             -- of the uncompressed content, as read
    expected_sha256 VARCHAR,             -- for a log: as its digest records it
    signature       VARCHAR,             -- for a digest: valid | invalid | not_checked
    verified_at     TIMESTAMP NOT NULL   -- UTC
);

-- Hours no digest covers, per trail, account and region: gaps in the evidence, not tampering.
-- Replaced for the source and window on every verify run.
CREATE TABLE IF NOT EXISTS delivery_gaps (
    source          VARCHAR   NOT NULL,
    account_id      VARCHAR   NOT NULL,
    aws_region      VARCHAR   NOT NULL,
    trail           VARCHAR   NOT NULL,
    gap_start       TIMESTAMP NOT NULL,  -- UTC: end of the last digest before the gap
    gap_end         TIMESTAMP NOT NULL,  -- UTC: start of the first digest after it (or the window's end)
    hours           DOUBLE    NOT NULL,
    verified_at     TIMESTAMP NOT NULL
);
