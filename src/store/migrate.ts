// Brings a database written by keytrail 0.1 up to the current schema. Its tables had no keys (an
// event delivered twice in one object was stored twice), no session_name, and named a
// cross-account caller by its session. The old tables are set aside before schemas/duckdb/ runs,
// and their rows move into the new ones after, through the same normalize.sql as new records.

import type { Store } from './db.js';
import { EVENT_KEY } from './load.js';
import { cloudTrailSql } from './staging.js';

/** Renames 0.1's tables out of the way; true when there were any. */
export async function setAsideV1(store: Store): Promise<boolean> {
  const [{ v1 }] = await store.all<{ v1: boolean }>(
    `SELECT count(*) FILTER (WHERE table_name = 'kms_events') = 1
            AND count(*) FILTER (WHERE table_name = 'kms_events' AND column_name = 'session_name') = 0 AS v1
     FROM duckdb_columns() WHERE schema_name = 'main'`,
  );
  if (!v1) return false;
  await store.transaction(async () => {
    await store.run('ALTER TABLE kms_events RENAME TO kms_events_v1');
    await store.run('ALTER TABLE ingested_objects RENAME TO ingested_objects_v1');
  });
  return true;
}

/**
 * Each 0.1 row becomes a CloudTrail record again (the fields the row kept), which normalize.sql
 * turns into a row as it does any record: one mapping, whatever the rows' age. The directory
 * learns from the roles and users the old rows name.
 */
export async function moveV1Rows(store: Store): Promise<void> {
  const records = `(SELECT event_id AS eventid, record_hash, source_object, NULL::BIGINT AS record_ref,
      strftime(event_time, '%Y-%m-%dT%H:%M:%S.%fZ') AS eventtime, event_name AS eventname, event_type AS eventtype,
      event_version AS eventversion, read_only::VARCHAR AS readonly, aws_region AS awsregion, account_id AS recipientaccountid,
      source_ip AS sourceipaddress, user_agent AS useragent, error_code AS errorcode, error_message AS errormessage,
      request_id AS requestid, vpc_endpoint_id AS vpcendpointid, request_parameters AS requestparameters,
      response_elements AS responseelements, additional_event_data AS additionaleventdata, 'kms.amazonaws.com' AS eventsource,
      from_json(resources, '[{"ARN":"VARCHAR","accountId":"VARCHAR","type":"VARCHAR"}]') AS resources,
      struct_pack(type := principal_type, principalid := principal_id, arn := principal_arn, accountid := principal_account,
        invokedby := invoked_by, accesskeyid := access_key_id, username := user_name,
        onbehalfof := NULL::STRUCT(userid VARCHAR, identitystorearn VARCHAR),
        sessioncontext := struct_pack(sessionissuer := CASE WHEN principal_type = 'AssumedRole' AND identity_arn LIKE 'arn:%:iam::%:role/%'
          THEN struct_pack(type := 'Role', principalid := split_part(principal_id, ':', 1), arn := identity_arn,
                           accountid := principal_account, username := user_name) END)) AS useridentity
    FROM kms_events_v1)`;
  await store.transaction(async () => {
    await store.run(`INSERT INTO principals SELECT *, 0 FROM (${cloudTrailSql('principals', { records })}) ON CONFLICT DO NOTHING`);
    await store.run(
      `INSERT INTO kms_events BY NAME
       SELECT * EXCLUDE (event_source, record_ref), ${EVENT_KEY} AS event_key
       FROM (${cloudTrailSql('normalize', { records, principals: 'principals' })})
       QUALIFY row_number() OVER (PARTITION BY event_id, record_hash ORDER BY source_object) = 1`,
    );
    await store.run(
      `INSERT INTO ingested_objects SELECT * FROM ingested_objects_v1
       QUALIFY row_number() OVER (PARTITION BY object_uri ORDER BY ingested_at DESC) = 1`,
    );
    await store.run('DROP TABLE kms_events_v1');
    await store.run('DROP TABLE ingested_objects_v1');
  });
}
