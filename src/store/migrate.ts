// Brings a database written by an older keytrail up to the current schema. The old tables are set
// aside before schemas/duckdb/ runs, and their rows move into the new ones after.
// - 0.1: no keys (an event delivered twice in one object was stored twice), no session_name, a
//   cross-account caller named by its session: the rows go through the same normalize.sql as new
//   records.
// - 0.2: the events tables had a global index on event_key (a PRIMARY KEY on kms_events, a unique
//   index on trail_events), whose upkeep grew with the table: the rows move as they are, in event
//   time order (the order the ingest's exactness check relies on to skip all but a slice).

import type { Store } from './db.js';
import { EVENT_KEY, cloudTrailSql } from './staging.js';

export type OldVersion = 'v1' | 'v2';

/** Renames an older version's tables out of the way; which version they were, or null. */
export async function setAsideOldTables(store: Store): Promise<OldVersion | null> {
  const [{ v1, v2 }] = await store.all<{ v1: boolean; v2: boolean }>(
    `SELECT count(*) FILTER (WHERE table_name = 'kms_events') > 0
              AND count(*) FILTER (WHERE table_name = 'kms_events' AND column_name = 'session_name') = 0 AS v1,
            (SELECT count(*) > 0 FROM duckdb_constraints() WHERE table_name = 'kms_events' AND constraint_type = 'PRIMARY KEY') AS v2
     FROM duckdb_columns() WHERE schema_name = 'main'`,
  );
  if (!v1 && !v2) return null;
  await store.transaction(async () => {
    if (v1) {
      await store.run('ALTER TABLE kms_events RENAME TO kms_events_v1');
      await store.run('ALTER TABLE ingested_objects RENAME TO ingested_objects_v1');
    } else {
      await store.run('ALTER TABLE kms_events RENAME TO kms_events_v2');
      await store.run('DROP INDEX IF EXISTS trail_events_key');
    }
  });
  return v1 ? 'v1' : 'v2';
}

export async function moveSetAsideRows(store: Store, version: OldVersion): Promise<void> {
  if (version === 'v1') return moveV1Rows(store);
  await store.transaction(async () => {
    await store.run('INSERT INTO kms_events BY NAME SELECT * FROM kms_events_v2 ORDER BY event_time');
    await store.run('DROP TABLE kms_events_v2');
  });
}

/**
 * Each 0.1 row becomes a CloudTrail record again (the fields the row kept), which normalize.sql
 * turns into a row as it does any record: one mapping, whatever the rows' age. The directory
 * learns from the roles and users the old rows name.
 */
async function moveV1Rows(store: Store): Promise<void> {
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
