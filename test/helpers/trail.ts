// Build small CloudTrail trails from records and load them with the real ingest: write the records
// as delivered log objects ({"Records":[...]}, gzipped, CloudTrail key names) into a temp folder,
// ingest the folder into a temp DuckDB file. Plus short forms of the record builders
// (scripts/cloudtrail) for KMS records with the identity shapes CloudTrail writes (IAM user, assumed
// role, root, AWS service, KMS itself, a service acting for a caller).

import { join } from 'node:path';
import {
  assumedRole, awsService, callerFor, iamUser, isKmsReadOnly, keyArn, kmsCall, kmsInternal, kmsKeylessCall, onBehalfOf, root, seededIds,
  type KmsContext, type RecordOptions, type UserIdentity,
} from '../../scripts/cloudtrail/index.js';
import { ingestFolder } from './ingest.js';
import { logObjectKey, tempDir, writeLogObject } from './log-objects.js';

export type CtRecord = Record<string, unknown>;
export type { UserIdentity };

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

/** The identity shapes tests use (built by scripts/cloudtrail/identities.ts). */
export const identity = {
  user: (account: string, name: string): UserIdentity => iamUser({ account, name }),
  role: (account: string, role: string, session = 'session'): UserIdentity => assumedRole({ account, name: role }, session),
  /** The root user's console session. */
  root: (account: string): UserIdentity => root(account, { time: '2024-05-01T00:00:00Z' }),
  /** An AWS service calling with its own service principal (CloudTrail encrypting its logs, ...). */
  service: (service: string): UserIdentity => awsService(service),
  /** KMS itself: RotateKey, DeleteKey after the waiting period, DeleteExpiredKeyMaterial. */
  kmsInternal: (account: string): UserIdentity => kmsInternal(account),
  /** A caller's request made for it by an AWS service (S3 decrypting an object for a role, ...). */
  via: (caller: UserIdentity, service: string): UserIdentity => onBehalfOf(caller, service),
};

export { keyArn };

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

let ids = seededIds('test/helpers/trail');
/** Ids from the seed's start again: test/helpers/per-file.ts calls it before each test file. */
export const restartTrailIds = () => void (ids = seededIds('test/helpers/trail'));

/** A KMS record as CloudTrail writes it for `identity` (ids from a fixed seed: a run is repeatable). */
export function kmsEvent(o: KmsEventOptions): CtRecord {
  const key = o.key ?? null;
  const x: KmsContext = {
    ids,
    time: o.time,
    caller: callerFor(o.identity, o.sourceIp),
    account: o.account ?? (key ? undefined : (o.identity.accountId ?? '111111111111')),
    region: o.region ?? (key ? undefined : 'us-east-1'),
    error: o.errorCode ? [o.errorCode, o.errorMessage ?? `${o.errorCode} (test)`] : undefined,
  };
  const options: RecordOptions = {
    eventVersion: '1.09',
    responseElements: o.responseElements ?? null,
    readOnly: o.readOnly ?? isKmsReadOnly(o.eventName),
    eventType: o.eventType ?? (o.identity.invokedBy === 'AWS Internal' ? 'AwsServiceEvent' : 'AwsApiCall'),
  };
  const request = o.requestParameters === undefined ? (key ? { keyId: key } : null) : o.requestParameters;
  const record = key ? kmsCall(x, { arn: key }, o.eventName, request, options) : kmsKeylessCall(x, o.eventName, request, options);
  return { ...record, ...o.extra };
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
