// The sample trail's options and its summary (ground truth for the detection tests), and the
// names of what it writes.

import type { TrailKey } from '../cloudtrail/index.js';

export interface TrailOptions {
  /** Output directory; objects are written under `<out>/AWSLogs/...`. */
  out: string;
  /** PRNG seed (default 42). */
  seed?: number;
  /** Number of days (default 21). */
  days?: number;
  /** First day, YYYY-MM-DD (UTC, default 2024-05-01). */
  start?: string;
  /** Approximate total gzip size of the good log objects in MB (default 2). */
  targetMb?: number;
  /** Organization-trail layout `AWSLogs/o-xxxxxxxxxx/<account>/...` (default false). */
  org?: boolean;
  /** Write the bad objects (default true). */
  bad?: boolean;
  /** Inject the anomalies (default true). */
  anomalies?: boolean;
  /** Volume multiplier; skips the targetMb calibration when given (see TrailSummary.scale). */
  scale?: number;
  /** The bucket the digests name as their own and their logs' (default: org-cloudtrail-logs-333333333333, or cloudtrail-logs-<account>). */
  bucket?: string;
  /** Sign the digests with this key, as CloudTrail does (default: random signature bytes no key verifies). */
  digestSigner?: TrailKey;
}

export type AnomalyKind =
  | 'volume_spike'
  | 'new_source_ip'
  | 'access_denied_burst'
  | 'cross_account_use'
  | 'external_key_use'
  | 'key_state'
  | 'key_policy_exposure'
  | 'grant_exposure'
  | 'root_use';

export interface InjectedAnomaly {
  kind: AnomalyKind;
  /** userIdentity.arn exactly as written in the records. */
  identity_arn: string;
  /** IAM form of the caller: role ARN (sessionIssuer.arn) for assumed roles, else the user / root ARN. */
  principal_arn: string;
  /** The key involved (first of key_arns). */
  key_arn: string;
  /** All keys involved (resources[].ARN); one entry except for access_denied_burst (3 keys). */
  key_arns: string[];
  /** Source IP of the anomalous calls when it matters (new_source_ip, cross_account_use, root_use), else null. */
  source_ip: string | null;
  /** Account whose trail holds the records (= recipientAccountId). */
  account_id: string;
  region: string;
  /** UTC day of the events, YYYY-MM-DD. */
  day: string;
  event_names: string[];
  /** Number of KMS records in the good log objects matching identity/keys/ip/day/event_names (and errorCode). */
  count: number;
  first_event_time: string | null;
  last_event_time: string | null;
  note: string;
}

export interface BenignLookalike {
  kind: string;
  identity_arn: string | null;
  principal_arn: string | null;
  key_arn: string | null;
  source_ip: string | null;
  account_id: string;
  region: string;
  /** null = over the whole trail. */
  day: string | null;
  event_names: string[];
  count: number;
  note: string;
}

export type BadObjectKind = 'corrupt_gzip' | 'truncated_gzip' | 'not_json' | 'no_records' | 'bad_record';

export interface BadObject {
  /** Path relative to `out`, with forward slashes. */
  path: string;
  kind: BadObjectKind;
  /** For bad_record: records in the object, readable KMS records, unreadable records. */
  records?: number;
  kmsRecords?: number;
  badRecords?: number;
}

export interface TrailSummary {
  seed: number;
  start: string;
  days: number;
  /** Good log objects written. */
  objects: number;
  badObjects: BadObject[];
  digestObjects: number;
  /** Each digest's signature by path: its S3 metadata `signature` when uploaded (a folder has no metadata). */
  digestSignatures: Record<string, string>;
  /** Records in the good log objects. */
  records: number;
  /** Records with eventSource kms.amazonaws.com in the good log objects. */
  kmsRecords: number;
  /** gzip bytes of the good log objects. */
  bytesGz: number;
  accounts: string[];
  regions: string[];
  accountRegions: Record<string, string[]>;
  orgId: string | null;
  trailName: string;
  /** Internal volume multiplier chosen to reach targetMb. */
  scale: number;
  anomalies: InjectedAnomaly[];
  benign: BenignLookalike[];
}

/** Log-object key (relative to `out`), plain or org layout. */
export const LOG_OBJECT_RE =
  /^AWSLogs\/(?:o-[a-z0-9]{10}\/)?(\d{12})\/CloudTrail\/([a-z0-9-]+)\/(\d{4})\/(\d{2})\/(\d{2})\/\1_CloudTrail_\2_(\d{8})T(\d{4})Z_[A-Za-z0-9]{16}\.json\.gz$/;
/** Digest-object key (relative to `out`), plain or org layout. */
export const DIGEST_OBJECT_RE =
  /^AWSLogs\/(?:o-[a-z0-9]{10}\/)?(\d{12})\/CloudTrail-Digest\/([a-z0-9-]+)\/(\d{4})\/(\d{2})\/(\d{2})\/\1_CloudTrail-Digest_\2_[A-Za-z0-9_.-]+_\2_(\d{8})T(\d{6})Z\.json\.gz$/;

export const DEFAULT_SEED = 42;
export const DEFAULT_DAYS = 21;
export const DEFAULT_START = '2024-05-01';
export const DEFAULT_TARGET_MB = 2;
export const ORG_ACCOUNTS = ['111111111111', '222222222222', '333333333333'] as const;
export const UNTRUSTED_ACCOUNT = '999999999999';
