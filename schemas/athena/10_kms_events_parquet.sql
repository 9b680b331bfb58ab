-- The Parquet export (keytrail export --to s3://...) as an Athena table. Partition projection:
-- Athena computes the partitions from the table properties (no crawler, no MSCK REPAIR TABLE,
-- nothing to do when new days arrive). The columns are those of kms_events in the local
-- database; request_parameters, response_elements, additional_event_data, encryption_context and
-- resources hold JSON text (use json_extract_scalar). event_date is the UTC day of event_time:
-- a WHERE on it reads only the days it names.
CREATE EXTERNAL TABLE IF NOT EXISTS {{table}} (
    event_id              string,
    record_hash           string,
    event_time            timestamp,
    event_name            string,
    event_type            string,
    event_version         string,
    read_only             boolean,
    aws_region            string,
    account_id            string,
    principal_type        string,
    principal_arn         string,
    principal_id          string,
    identity_arn          string,
    session_name          string,
    principal_account     string,
    user_name             string,
    access_key_id         string,
    invoked_by            string,
    source_ip             string,
    user_agent            string,
    key_arn               string,
    key_id                string,
    key_account           string,
    error_code            string,
    error_message         string,
    request_id            string,
    vpc_endpoint_id       string,
    encryption_context    string,
    request_parameters    string,
    response_elements     string,
    additional_event_data string,
    resources             string,
    source_object         string
)
PARTITIONED BY (event_date string{{account_partition}})
STORED AS PARQUET
LOCATION '{{location}}kms_events/'
TBLPROPERTIES (
    'projection.enabled' = 'true',
    'projection.event_date.type' = 'date',
    'projection.event_date.format' = 'yyyy-MM-dd',
    'projection.event_date.range' = '{{since}},NOW',
    'projection.event_date.interval' = '1',
    'projection.event_date.interval.unit' = 'DAYS',{{account_projection}}
    'storage.location.template' = '{{location}}kms_events/event_date=${event_date}/{{account_template}}',
    'parquet.compression' = 'ZSTD'
)
