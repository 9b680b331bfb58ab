// The staged form of CloudTrail records between the decode workers and DuckDB: NDJSON, one line
// per kept record, `{"o": object, "n": record, "h": md5, "r": <the record's own bytes>}`, read back
// by DuckDB's JSON reader into the columns of the Athena CloudTrail table (schemas/cloudtrail).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { schemasDir } from '../paths.js';

/**
 * A CloudTrail record as DuckDB reads it: the fields normalize.sql and principals.sql use, shaped
 * like the AWS-documented Athena table (keys as CloudTrail spells them; SQL names match them
 * case-insensitively). A field of another type than documented reads as NULL, not as an error.
 */
const RECORD_STRUCT = `STRUCT(
  eventVersion VARCHAR, eventTime VARCHAR, eventSource VARCHAR, eventName VARCHAR, awsRegion VARCHAR,
  sourceIPAddress VARCHAR, userAgent VARCHAR, errorCode VARCHAR, errorMessage VARCHAR,
  requestParameters JSON, responseElements JSON, additionalEventData JSON, requestID VARCHAR,
  eventID VARCHAR, readOnly VARCHAR, eventType VARCHAR, recipientAccountId VARCHAR, vpcEndpointId VARCHAR,
  resources STRUCT(ARN VARCHAR, accountId VARCHAR, type VARCHAR)[],
  userIdentity STRUCT(
    type VARCHAR, principalId VARCHAR, arn VARCHAR, accountId VARCHAR, invokedBy VARCHAR,
    accessKeyId VARCHAR, userName VARCHAR,
    onBehalfOf STRUCT(userId VARCHAR, identityStoreArn VARCHAR),
    sessionContext STRUCT(
      sessionIssuer STRUCT(type VARCHAR, principalId VARCHAR, arn VARCHAR, accountId VARCHAR, userName VARCHAR))))`;

/** What the principals directory and the batch's checks read: who called, and when. */
const IDENTITY_STRUCT = `STRUCT(
  eventTime VARCHAR,
  userIdentity STRUCT(
    type VARCHAR, principalId VARCHAR, arn VARCHAR, accountId VARCHAR,
    sessionContext STRUCT(sessionIssuer STRUCT(type VARCHAR, principalId VARCHAR, arn VARCHAR, accountId VARCHAR))))`;

/** The events tables' key: the event and its content in one number. */
export const EVENT_KEY = `md5_number(event_id || '|' || record_hash)`;

const stagedColumns = (record: string) => `{o: 'BIGINT', n: 'BIGINT', h: 'VARCHAR', r: '${record.replace(/\s+/g, ' ')}'}`;

/**
 * The staged file as a relation: o, n, record_hash and the record's columns (one per field), all
 * of them or only the caller's identity. A line that is not JSON reads as a row of NULLs.
 */
export function stagedRecords(fileParam: string, fields: 'all' | 'identity'): string {
  const columns = stagedColumns(fields === 'all' ? RECORD_STRUCT : IDENTITY_STRUCT);
  return `(SELECT s.o, s.n, s.h AS record_hash, unnest(s.r)
           FROM read_json(${fileParam}, format = 'newline_delimited', ignore_errors = true, columns = ${columns}) s)`;
}

/** schemas/cloudtrail/<name>.sql with its {{records}} / {{principals}} relations filled in. */
export function cloudTrailSql(name: 'normalize' | 'principals', relations: Record<string, string>): string {
  // Comment lines go first: they name the placeholders too, and a relation may span lines.
  const text = readFileSync(join(schemasDir, 'cloudtrail', `${name}.sql`), 'utf8').replace(/^\s*--.*\n/gm, '');
  return text.replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
    if (!(key in relations)) throw new Error(`schemas/cloudtrail/${name}.sql: no relation for {{${key}}}`);
    return relations[key];
  });
}
