// Build small CloudTrail trails from records and load them with the real ingest: write the records
// as delivered log objects ({"Records":[...]}, gzipped, CloudTrail key names) into a temp folder,
// ingest the folder into a temp DuckDB file. Plus builders for KMS records with the identity shapes
// CloudTrail writes (IAM user, assumed role, root, AWS service, KMS itself, a service acting for a
// caller).

import { createHash, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { ingestFolder } from './ingest.js';
import { logObjectKey, tempDir, writeLogObject } from './log-objects.js';

export type CtRecord = Record<string, unknown>;
export type UserIdentity = Record<string, unknown>;

export interface LoadedTrail {
  /** The folder of log objects. */
  trail: string;
  /** The DuckDB file the trail was ingested into. */
  db: string;
  cleanup: () => void;
}

/**
 * Writes `records` as log objects (one per recipient account, region and hour, the way CloudTrail
 * delivers them) and ingests them into a fresh database. Records without eventTime go in with
 * `fallbackTime`'s object.
 */
export async function loadTrail(records: CtRecord[], options: { fallbackTime?: string } = {}): Promise<LoadedTrail> {
  const { dir, cleanup } = tempDir('keytrail-trail-');
  const trail = join(dir, 'trail');
  const db = join(dir, 'keytrail.duckdb');
  writeTrail(trail, records, options.fallbackTime);
  try {
    await ingestFolder(trail, db);
  } catch (err) {
    cleanup();
    throw err;
  }
  return { trail, db, cleanup };
}

/** Writes the records under `root` as log objects; returns the object paths. */
export function writeTrail(root: string, records: CtRecord[], fallbackTime = '2024-05-01T00:00:00Z'): string[] {
  const groups = new Map<string, { account: string; region: string; time: string; records: CtRecord[] }>();
  for (const r of records) {
    const account = typeof r.recipientAccountId === 'string' ? r.recipientAccountId : '000000000000';
    const region = typeof r.awsRegion === 'string' ? r.awsRegion : 'us-east-1';
    const parsed = typeof r.eventTime === 'string' ? Date.parse(r.eventTime.replace(' ', 'T').replace(/(\d)$/, '$1Z')) : NaN;
    const time = Number.isNaN(parsed) ? fallbackTime : new Date(parsed).toISOString();
    const hour = `${time.slice(0, 13)}:00:00Z`;
    const id = `${account}/${region}/${hour}`;
    let g = groups.get(id);
    if (!g) groups.set(id, (g = { account, region, time: hour, records: [] }));
    g.records.push(r);
  }
  return [...groups.values()].map((g) => writeLogObject(root, logObjectKey(g.account, g.region, g.time), g.records));
}

// ---------------------------------------------------------------------------------------------
// Identities

/** An IAM unique id as IAM makes them (AROA… for roles, AIDA… for users): one per principal, never reused. */
export function uniqueId(prefix: 'AROA' | 'AIDA', account: string, name: string): string {
  return prefix + createHash('md5').update(`${account}/${name}`).digest('hex').toUpperCase().slice(0, 17);
}

export const identity = {
  user: (account: string, name: string): UserIdentity => ({
    type: 'IAMUser', principalId: uniqueId('AIDA', account, name),
    arn: `arn:aws:iam::${account}:user/${name}`, accountId: account, accessKeyId: 'AKIAIOSFODNN7EXAMPLE', userName: name,
  }),
  role: (account: string, role: string, session = 'session'): UserIdentity => ({
    type: 'AssumedRole', principalId: `${uniqueId('AROA', account, role)}:${session}`,
    arn: `arn:aws:sts::${account}:assumed-role/${role}/${session}`, accountId: account, accessKeyId: 'ASIAEXAMPLE',
    sessionContext: {
      sessionIssuer: { type: 'Role', principalId: uniqueId('AROA', account, role), arn: `arn:aws:iam::${account}:role/${role}`, accountId: account, userName: role },
      attributes: { creationDate: '2024-05-01T00:00:00Z', mfaAuthenticated: 'false' },
    },
  }),
  root: (account: string): UserIdentity => ({
    type: 'Root', principalId: account, arn: `arn:aws:iam::${account}:root`, accountId: account, accessKeyId: 'ASIAROOTEXAMPLE',
  }),
  /** An AWS service calling with its own service principal (CloudTrail encrypting its logs, ...). */
  service: (service: string): UserIdentity => ({ type: 'AWSService', invokedBy: service }),
  /** KMS itself: RotateKey, DeleteKey after the waiting period, DeleteExpiredKeyMaterial. */
  kmsInternal: (account: string): UserIdentity => ({ accountId: account, invokedBy: 'AWS Internal' }),
  /** A caller's request made for it by an AWS service (S3 decrypting an object for a role, ...). */
  via: (caller: UserIdentity, service: string): UserIdentity => ({ ...caller, invokedBy: service }),
};

// ---------------------------------------------------------------------------------------------
// Records

export const keyArn = (account: string, id: string, region = 'us-east-1'): string => `arn:aws:kms:${region}:${account}:key/${id}`;

export interface KmsEventOptions {
  eventName: string;
  /** ISO time, e.g. '2024-05-01T10:00:00Z' (see `at`). */
  time: string;
  identity: UserIdentity;
  /** recipientAccountId: the account whose trail holds the record (default: the key's account). */
  account?: string;
  region?: string;
  /** The key's ARN (resources[]); null for calls without a key. */
  key?: string | null;
  /** Default: the service for service identities, 'AWS Internal' for KMS itself, else 203.0.113.10. */
  sourceIp?: string;
  errorCode?: string;
  errorMessage?: string;
  requestParameters?: unknown;
  responseElements?: unknown;
  eventType?: 'AwsApiCall' | 'AwsServiceEvent';
  readOnly?: boolean;
  extra?: CtRecord;
}

const READ_ONLY = new Set(['Decrypt', 'Encrypt', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext', 'ReEncrypt', 'DescribeKey', 'ListAliases', 'ListKeys', 'GetKeyPolicy', 'GetKeyRotationStatus', 'Sign', 'Verify']);

export function kmsEvent(o: KmsEventOptions): CtRecord {
  const key = o.key ?? null;
  const keyAccount = key ? key.split(':')[4] : undefined;
  const account = o.account ?? keyAccount ?? (typeof o.identity.accountId === 'string' ? o.identity.accountId : '111111111111');
  const region = o.region ?? (key ? key.split(':')[3] : 'us-east-1');
  const internal = o.identity.invokedBy === 'AWS Internal';
  const sourceIp = o.sourceIp
    ?? (internal ? 'AWS Internal' : typeof o.identity.invokedBy === 'string' ? o.identity.invokedBy : '203.0.113.10');
  return {
    eventVersion: '1.09',
    userIdentity: o.identity,
    eventTime: o.time,
    eventSource: 'kms.amazonaws.com',
    eventName: o.eventName,
    awsRegion: region,
    sourceIPAddress: sourceIp,
    userAgent: internal ? 'AWS Internal' : typeof o.identity.invokedBy === 'string' ? o.identity.invokedBy : 'aws-cli/2.15.30 Python/3.11.8',
    ...(o.errorCode ? { errorCode: o.errorCode, errorMessage: o.errorMessage ?? `${o.errorCode} (test)` } : {}),
    requestParameters: o.requestParameters === undefined ? (key ? { keyId: key } : null) : o.requestParameters,
    responseElements: o.responseElements ?? null,
    requestID: randomUUID(),
    eventID: randomUUID(),
    readOnly: o.readOnly ?? READ_ONLY.has(o.eventName),
    resources: key ? [{ accountId: keyAccount, type: 'AWS::KMS::Key', ARN: key }] : [],
    eventType: o.eventType ?? (internal ? 'AwsServiceEvent' : 'AwsApiCall'),
    managementEvent: true,
    recipientAccountId: account,
    eventCategory: 'Management',
    ...o.extra,
  };
}

/** `count` copies of an event spread over `minutes` from `time` (a new eventID each). */
export function repeat(count: number, time: string, minutes: number, make: (time: string, i: number) => CtRecord): CtRecord[] {
  const start = Date.parse(time);
  const step = count > 1 ? (minutes * 60_000) / count : 0;
  return Array.from({ length: count }, (_, i) => make(new Date(start + Math.floor(i * step / 1000) * 1000).toISOString().replace('.000Z', 'Z'), i));
}

/** The ISO time `day` days after `start` (default 2024-05-01) at hh:mm:ss UTC. */
export function at(day: number, hh = 10, mm = 0, ss = 0, start = '2024-05-01'): string {
  const t = Date.parse(`${start}T00:00:00Z`) + ((day * 24 + hh) * 60 + mm) * 60_000 + ss * 1000;
  return new Date(t).toISOString().replace('.000Z', 'Z');
}
