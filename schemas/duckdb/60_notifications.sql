-- What keytrail detect --notify delivered where: one row per finding (its fingerprint) and target,
-- so later runs send each finding once; rows with status 'failed' are retried by the next run,
-- from the finding stored here even when the detections no longer return it.
CREATE TABLE IF NOT EXISTS notifications (
    fingerprint     VARCHAR   NOT NULL, -- sha256 of rule, identity, source IP, key, account, first_seen
    target_id       VARCHAR   NOT NULL, -- sha256 of the --notify value
    target          VARCHAR   NOT NULL, -- shown: the webhook's origin (its path may be a secret) or the topic ARN
    rule            VARCHAR   NOT NULL,
    severity        VARCHAR   NOT NULL,
    finding         JSON      NOT NULL, -- as detect --format json prints it
    status          VARCHAR   NOT NULL, -- delivered | failed
    attempts        INTEGER   NOT NULL, -- over all runs
    error           VARCHAR,            -- the last failure's reason
    first_tried_at  TIMESTAMP NOT NULL, -- UTC
    last_tried_at   TIMESTAMP NOT NULL,
    delivered_at    TIMESTAMP,
    PRIMARY KEY (fingerprint, target_id)
);
