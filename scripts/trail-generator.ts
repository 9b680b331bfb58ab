/**
 * Seeded generator of realistic CloudTrail log objects (S3 layout, gzip, {"Records":[...]}).
 *
 * Everything random comes from a seeded sfc32 PRNG, so the same options give byte-identical output.
 * The trail is produced window by window (5-minute delivery windows) and written as it goes; only the
 * small set of scheduled (anomaly / benign fixed) records is held in memory up front.
 *
 * Ground truth for detection tests is returned in the summary (`anomalies`, `benign`); every count there
 * is measured on the records actually written to the good log objects.
 */
import { gzipSync } from 'node:zlib';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';

// ---------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// PRNG (sfc32 seeded through splitmix32)
// ---------------------------------------------------------------------------------------------

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const hex8 = (n: number): string => HEX[(n >>> 24) & 255]! + HEX[(n >>> 16) & 255]! + HEX[(n >>> 8) & 255]! + HEX[n & 255]!;
const hex4 = (n: number): string => HEX[(n >>> 8) & 255]! + HEX[n & 255]!;
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const UPNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const LOWNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare: number | null = null;

  constructor(seed: number, stream = 0) {
    let s = ((seed >>> 0) ^ Math.imul(Math.floor(seed / 4294967296) | 0, 0x85ebca6b) ^ Math.imul(stream + 1, 0x9e3779b9)) | 0;
    const sm = (): number => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = sm();
    this.b = sm();
    this.c = sm();
    this.d = sm() | 1;
    for (let i = 0; i < 20; i++) this.u32();
  }

  u32(): number {
    const t0 = (this.a + this.b) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.d = (this.d + 1) | 0;
    const t = (t0 + this.d) | 0;
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }
  float(): number {
    return this.u32() / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.float() * n);
  }
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.float() < p;
  }
  pick<T>(arr: readonly T[]): T {
    return arr[this.int(arr.length)]!;
  }
  weighted<T>(items: readonly (readonly [T, number])[]): T {
    let total = 0;
    for (const [, w] of items) total += w;
    let x = this.float() * total;
    for (const [v, w] of items) {
      x -= w;
      if (x < 0) return v;
    }
    return items[items.length - 1]![0];
  }
  normal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.float();
    const v = this.float();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
  poisson(lambda: number): number {
    if (lambda <= 0) return 0;
    if (lambda < 30) {
      const L = Math.exp(-lambda);
      let k = 0;
      let p = 1;
      do {
        k++;
        p *= this.float();
      } while (p > L);
      return k - 1;
    }
    return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * this.normal()));
  }
  /** Exponential with the given mean. */
  exp(mean: number): number {
    return -Math.log(1 - this.float()) * mean;
  }
  lognormal(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.normal());
  }
  str(chars: string, n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += chars[this.int(chars.length)];
    return s;
  }
  hex(n: number): string {
    let s = '';
    while (s.length < n) s += hex8(this.u32());
    return s.slice(0, n);
  }
  uuid(): string {
    const a = this.u32();
    const b = this.u32();
    const c = this.u32();
    const d = this.u32();
    return (
      hex8(a) + '-' + hex4(b >>> 16) + '-4' + hex4(b & 0xfff).slice(1) + '-' + hex4(((c >>> 16) & 0x3fff) | 0x8000) + '-' + hex4(c & 0xffff) + hex8(d)
    );
  }
}

/** FNV-1a 32-bit (used for stable, non-random derived ids such as session access keys). */
function fnv(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
function derivedId(prefix: string, basis: string, n = 16): string {
  let h = fnv(basis);
  let s = prefix;
  for (let i = 0; i < n; i++) {
    h ^= h << 13;
    h ^= h >>> 17;
    h ^= h << 5;
    h >>>= 0;
    s += UPNUM[h % 32];
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Time helpers
// ---------------------------------------------------------------------------------------------

const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const WIN = 5 * MIN;
const WINDOWS_PER_DAY = DAY / WIN;

const iso = (t: number): string => new Date(t).toISOString().slice(0, 19) + 'Z';
const ymd = (t: number): string => new Date(t).toISOString().slice(0, 10);
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** "May 28, 2024, 9:07:11 AM" (the format KMS uses in responseElements). */
function awsDate(t: number): string {
  const d = new Date(t);
  const h = d.getUTCHours();
  const h12 = h % 12 === 0 ? 12 : h % 12;
  const mm = String(d.getUTCMinutes()).padStart(2, '0');
  const ss = String(d.getUTCSeconds()).padStart(2, '0');
  return `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}, ${d.getUTCFullYear()}, ${h12}:${mm}:${ss} ${h < 12 ? 'AM' : 'PM'}`;
}
function compactStamp(t: number, withSeconds: boolean): string {
  const s = new Date(t).toISOString(); // 2024-05-01T12:34:56.000Z
  return s.slice(0, 4) + s.slice(5, 7) + s.slice(8, 10) + 'T' + s.slice(11, 13) + s.slice(14, 16) + (withSeconds ? s.slice(17, 19) : '') + 'Z';
}

// ---------------------------------------------------------------------------------------------
// CloudTrail record shape
// ---------------------------------------------------------------------------------------------

export interface UserIdentity {
  type?: string;
  principalId?: string;
  arn?: string;
  accountId?: string;
  accessKeyId?: string;
  userName?: string;
  sessionContext?: unknown;
  invokedBy?: string;
}

interface Resource {
  accountId?: string;
  type?: string;
  ARN: string;
}

export interface CtRecord {
  eventVersion: string;
  userIdentity: UserIdentity;
  eventTime: string;
  eventSource: string;
  eventName: string;
  awsRegion: string;
  sourceIPAddress: string;
  userAgent: string;
  errorCode?: string;
  errorMessage?: string;
  requestParameters: unknown;
  responseElements: unknown;
  additionalEventData?: unknown;
  requestID?: string;
  eventID: string;
  readOnly?: boolean;
  resources?: Resource[];
  eventType: string;
  managementEvent?: boolean;
  recipientAccountId: string;
  sharedEventID?: string;
  vpcEndpointId?: string;
  vpcEndpointAccountId?: string;
  serviceEventDetails?: unknown;
  eventCategory?: string;
  tlsDetails?: unknown;
  sessionCredentialFromConsole?: string;
}

interface Item {
  t: number;
  r: CtRecord;
}

/** How a call reached the service. */
interface Call {
  ui: UserIdentity;
  ip: string;
  ua: string;
  /** Direct client call over TLS (adds tlsDetails); false for calls made by AWS services. */
  tls: boolean;
  tls12?: boolean;
  console?: boolean;
  vpce?: string;
}

interface RecOpts {
  error?: readonly [string, string];
  readOnly?: boolean;
  eventType?: string;
  add?: unknown;
  data?: boolean;
  resp?: unknown;
  resources?: Resource[];
  ver?: string;
  requestID?: string;
  host?: string;
  sharedEventID?: string;
}

function tlsDetails(host: string, v12: boolean | undefined) {
  return v12
    ? { tlsVersion: 'TLSv1.2', cipherSuite: 'ECDHE-RSA-AES128-GCM-SHA256', clientProvidedHostHeader: host }
    : { tlsVersion: 'TLSv1.3', cipherSuite: 'TLS_AES_128_GCM_SHA256', clientProvidedHostHeader: host };
}

const SERVICE_VERSION: Record<string, string> = {
  kms: '1.08',
  s3: '1.09',
  sts: '1.08',
  ec2: '1.09',
  iam: '1.08',
  lambda: '1.08',
  secretsmanager: '1.09',
  ssm: '1.08',
  dynamodb: '1.08',
  monitoring: '1.08',
  athena: '1.08',
  glue: '1.08',
  ecr: '1.08',
  signin: '1.08',
  logs: '1.08',
  backup: '1.08',
  rds: '1.08',
};

function rec(
  rng: Rng,
  t: number,
  svc: string,
  name: string,
  region: string,
  recipient: string,
  c: Call,
  req: unknown,
  o: RecOpts = {},
): CtRecord {
  const data = o.data === true;
  const host = o.host ?? `${svc}.${region}.amazonaws.com`;
  return {
    eventVersion: o.ver ?? SERVICE_VERSION[svc] ?? '1.08',
    userIdentity: c.ui,
    eventTime: iso(t),
    eventSource: `${svc}.amazonaws.com`,
    eventName: name,
    awsRegion: region,
    sourceIPAddress: c.ip,
    userAgent: c.ua,
    errorCode: o.error?.[0],
    errorMessage: o.error?.[1],
    requestParameters: req,
    responseElements: o.resp ?? null,
    additionalEventData: o.add,
    requestID: o.requestID ?? (o.eventType === 'AwsServiceEvent' ? undefined : rng.uuid()),
    eventID: rng.uuid(),
    readOnly: o.readOnly ?? true,
    resources: o.resources,
    eventType: o.eventType ?? 'AwsApiCall',
    managementEvent: !data,
    recipientAccountId: recipient,
    sharedEventID: o.sharedEventID,
    vpcEndpointId: c.vpce,
    vpcEndpointAccountId: c.vpce ? recipient : undefined,
    eventCategory: data ? 'Data' : 'Management',
    tlsDetails: c.tls ? tlsDetails(host, c.tls12) : undefined,
    sessionCredentialFromConsole: c.console ? 'true' : undefined,
  };
}

// ---------------------------------------------------------------------------------------------
// Catalog: accounts, regions, keys, principals
// ---------------------------------------------------------------------------------------------

interface Key {
  account: string;
  region: string;
  id: string;
  arn: string;
  alias: string | null;
  multiRegion: boolean;
  managed: boolean;
  spec: 'SYMMETRIC_DEFAULT' | 'RSA_2048';
}

interface Role {
  account: string;
  name: string;
  arn: string;
  id: string;
}

interface User {
  account: string;
  name: string;
  arn: string;
  id: string;
  akid: string;
}

const ACCOUNT_REGIONS: Record<string, string[]> = {
  '111111111111': ['us-east-1', 'us-west-2', 'eu-west-1'],
  '222222222222': ['us-east-1', 'eu-west-1'],
  '333333333333': ['us-east-1', 'us-west-2'],
};

const ISP_PREFIX = [73, 98, 24, 71, 76, 67, 174, 108, 86, 81, 92];
const OFFICE_PREFIX = [12, 38, 63, 64, 65, 66, 199, 208];
const VPS_PREFIX = [45, 185, 193, 91, 194, 146];
const AWS_PREFIX = [3, 18, 34, 35, 44, 52, 54];
const AZURE_PREFIX = [20, 40, 4, 13];

function pubIp(rng: Rng, prefixes: readonly number[]): string {
  return `${rng.pick(prefixes)}.${rng.range(1, 254)}.${rng.range(1, 254)}.${rng.range(1, 254)}`;
}

const UA = {
  cliMac: 'aws-cli/2.15.38 Python/3.11.8 Darwin/23.4.0 exe/x86_64 prompt/off command/kms.decrypt',
  cliLinux: 'aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0-1017-aws exe/x86_64.ubuntu.22 prompt/off',
  cliWin: 'aws-cli/2.16.1 md/awscrt#0.19.19 ua/2.0 os/windows#10 md/arch#amd64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/prompt#off',
  boto3Lambda:
    'Boto3/1.34.84 md/Botocore#1.34.84 ua/2.0 os/linux#5.10.214-202.855.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.2 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 cfg/retry-mode#legacy Botocore/1.34.84',
  boto3:
    'Boto3/1.34.90 md/Botocore#1.34.90 ua/2.0 os/linux#6.1.84-99.169.amzn2023.x86_64 md/arch#x86_64 lang/python#3.11.6 md/pyimpl#CPython cfg/retry-mode#standard Botocore/1.34.90',
  javaEcs:
    'aws-sdk-java/2.25.26 Linux/5.10.213-201.855.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.10+7-LTS Java/17.0.10 vendor/Amazon.com_Inc. md/internal exec-env/AWS_ECS_FARGATE io/sync http/Apache cfg/retry-mode/legacy',
  nodeLambda: 'aws-sdk-js/3.556.0 ua/2.0 os/linux#5.10.214-224.855.amzn2.x86_64 lang/js md/nodejs#20.12.2 exec-env/AWS_Lambda_nodejs20.x api/kms#3.556.0',
  goSdk: 'aws-sdk-go-v2/1.26.1 os/linux lang/go#1.22.2 md/GOOS#linux md/GOARCH#amd64 api/kms#1.31.0',
  glue: '[aws-sdk-java/1.12.650 Linux/5.10.213-201.855.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/25.402-b08 java/1.8.0_402 scala/2.12.15 vendor/Amazon.com_Inc. cfg/retry-mode/legacy exec-env/AWS_Glue]',
  terraform:
    'APN/1.0 HashiCorp/1.0 Terraform/1.8.2 (+https://www.terraform.io) terraform-provider-aws/5.47.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.26.1 os/linux lang/go#1.22.2 md/GOOS#linux md/GOARCH#amd64 api/kms#1.31.0',
  prowler: 'Boto3/1.34.90 md/Botocore#1.34.90 ua/2.0 os/linux#5.15.0-1057-aws md/arch#x86_64 lang/python#3.11.9 md/pyimpl#CPython cfg/retry-mode#standard Botocore/1.34.90 prowler/3.16.6',
  vendor: 'aws-sdk-go/1.51.21 (go1.21.9; linux; amd64) vendor-poller/7.52.0',
  browser: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  internal: 'AWS Internal',
} as const;

class Catalog {
  readonly keys = new Map<string, Key>();
  readonly roles = new Map<string, Role>();
  readonly users = new Map<string, User>();
  readonly ips = new Map<string, string>();
  readonly vpce = new Map<string, string>();
  readonly orgId: string;
  readonly ssoSuffix: Record<string, string>;

  constructor(readonly rng: Rng) {
    this.orgId = 'o-' + rng.str(LOWNUM, 10);
    this.ssoSuffix = { AdministratorAccess: rng.hex(16), DataAnalyst: rng.hex(16), ReadOnly: rng.hex(16) };
    const key = (account: string, region: string, alias: string | null, o: { mrk?: string; managed?: boolean; rsa?: boolean } = {}): Key => {
      const id = o.mrk ?? rng.uuid();
      const k: Key = {
        account,
        region,
        id,
        arn: `arn:aws:kms:${region}:${account}:key/${id}`,
        alias: alias ? `alias/${alias}` : null,
        multiRegion: id.startsWith('mrk-'),
        managed: o.managed === true,
        spec: o.rsa ? 'RSA_2048' : 'SYMMETRIC_DEFAULT',
      };
      this.keys.set(`${account}/${region}/${alias ?? id}`, k);
      return k;
    };
    const A1 = '111111111111';
    const A2 = '222222222222';
    const A3 = '333333333333';
    const backupMrk = 'mrk-' + rng.hex(32);
    key(A1, 'us-east-1', 'datalake-raw');
    key(A1, 'us-east-1', 'datalake-curated');
    key(A1, 'us-east-1', 'app-data');
    key(A1, 'us-east-1', 'backup', { mrk: backupMrk });
    key(A1, 'us-east-1', 'aws/s3', { managed: true });
    key(A1, 'us-east-1', 'aws/ebs', { managed: true });
    key(A1, 'us-west-2', 'backup', { mrk: backupMrk });
    key(A1, 'us-west-2', 'dr-data');
    key(A1, 'us-west-2', 'legacy-archive');
    key(A1, 'eu-west-1', 'eu-data');
    key(A1, 'eu-west-1', 'aws/lambda', { managed: true });
    key(A2, 'us-east-1', 'app-data');
    key(A2, 'us-east-1', 'reports');
    key(A2, 'us-east-1', 'secrets');
    key(A2, 'us-east-1', 'signing', { rsa: true });
    key(A2, 'us-east-1', 'aws/lambda', { managed: true });
    key(A2, 'eu-west-1', 'app-data-eu');
    key(A2, 'eu-west-1', 'payments-eu', { mrk: 'mrk-' + rng.hex(32) });
    key(A3, 'us-east-1', 'org-cloudtrail-logs');
    key(A3, 'us-east-1', 'shared-tools');
    key(A3, 'us-east-1', 'build-artifacts');
    key(A3, 'us-east-1', 'secrets-vault');
    key(A3, 'us-east-1', 'aws/ssm', { managed: true });
    key(A3, 'us-west-2', 'ops');
    key(A3, 'us-west-2', 'aws/ebs', { managed: true });
    // keys created during the trail (CreateKey events)
    key(A2, 'us-east-1', 'feature-flags');
    key(A2, 'us-east-1', 'sqs-orders');
    key(A1, 'us-west-2', 'byok-import');
    // the untrusted account's key
    key(UNTRUSTED_ACCOUNT, 'us-east-1', 'partner-exchange');

    const role = (account: string, name: string, path = '/'): Role => {
      const r: Role = { account, name, arn: `arn:aws:iam::${account}:role${path}${name}`, id: 'AROA' + rng.str(UPNUM, 17) };
      this.roles.set(`${account}/${name.startsWith('AWSReservedSSO_') ? name.split('_')[1]! : name}`, r);
      return r;
    };
    const sso = (account: string, set: string): Role =>
      role(account, `AWSReservedSSO_${set}_${this.ssoSuffix[set]}`, '/aws-reserved/sso.amazonaws.com/');
    role(A1, 'DataLakeAnalyticsRole');
    role(A1, 'IngestLambdaRole', '/service-role/');
    role(A1, 'MonitoringReadOnlyRole');
    role(A1, 'AWSServiceRoleForConfig', '/aws-service-role/config.amazonaws.com/');
    role(A1, 'AWSServiceRoleForAutoScaling', '/aws-service-role/autoscaling.amazonaws.com/');
    role(A1, 'AWSBackupDefaultServiceRole', '/service-role/');
    role(A1, 'DrSyncRole');
    role(A1, 'ArchiveJobRole');
    role(A1, 'EuApiLambdaRole', '/service-role/');
    role(A1, 'SecurityAuditRole');
    sso(A1, 'AdministratorAccess');
    sso(A1, 'DataAnalyst');
    role(A2, 'AppBackendRole');
    role(A2, 'ReportingRole');
    role(A2, 'SigningServiceRole');
    role(A2, 'VendorExportRole');
    role(A2, 'AWSServiceRoleForConfig', '/aws-service-role/config.amazonaws.com/');
    role(A2, 'SecurityAuditRole');
    role(A2, 'MonitoringReadOnlyRole');
    sso(A2, 'ReadOnly');
    role(A3, 'BuildAgentRole');
    role(A3, 'OpsLambdaRole', '/service-role/');
    role(A3, 'AWSServiceRoleForConfig', '/aws-service-role/config.amazonaws.com/');
    role(A3, 'SecurityAuditRole');
    sso(A3, 'AdministratorAccess');
    role(UNTRUSTED_ACCOUNT, 'PartnerIntegrationRole');

    const user = (account: string, name: string): User => {
      const u: User = { account, name, arn: `arn:aws:iam::${account}:user/${name}`, id: 'AIDA' + rng.str(UPNUM, 17), akid: 'AKIA' + rng.str(UPNUM, 16) };
      this.users.set(`${account}/${name}`, u);
      return u;
    };
    user(A1, 'carol.ops');
    user(A1, 'jordan.lee');
    user(A2, 'sam.rivera');
    user(A2, 'ci-deployer');

    const ip = (name: string, prefixes: readonly number[]) => this.ips.set(name, pubIp(rng, prefixes));
    ip('carol.home', ISP_PREFIX);
    ip('carol.office', OFFICE_PREFIX);
    ip('jordan.office', OFFICE_PREFIX);
    ip('sam.home', ISP_PREFIX);
    ip('sam.office', OFFICE_PREFIX);
    ip('sam.new', VPS_PREFIX);
    ip('pat.office', OFFICE_PREFIX);
    ip('lee.office', OFFICE_PREFIX);
    ip('analyst1', ISP_PREFIX);
    ip('analyst2', OFFICE_PREFIX);
    ip('readonly1', ISP_PREFIX);
    ip('root.admin', ISP_PREFIX);
    ip('vendor1', AWS_PREFIX);
    ip('vendor2', AWS_PREFIX);
    ip('partner', VPS_PREFIX);
    ip('build.eip', AWS_PREFIX);
    ip('prowler', AWS_PREFIX);
    for (const acct of ORG_ACCOUNTS) {
      for (const region of ACCOUNT_REGIONS[acct]!) {
        ip(`nat1/${acct}/${region}`, AWS_PREFIX);
        ip(`nat2/${acct}/${region}`, AWS_PREFIX);
        this.vpce.set(`${acct}/${region}/s3`, 'vpce-' + rng.hex(17));
        this.vpce.set(`${acct}/${region}/kms`, 'vpce-' + rng.hex(17));
      }
    }
    ip('gh1', AZURE_PREFIX);
    ip('gh2', AZURE_PREFIX);
    ip('gh3', AZURE_PREFIX);
  }

  key(account: string, region: string, alias: string): Key {
    const k = this.keys.get(`${account}/${region}/${alias}`);
    if (!k) throw new Error(`no key ${account}/${region}/${alias}`);
    return k;
  }
  role(account: string, name: string): Role {
    const r = this.roles.get(`${account}/${name}`);
    if (!r) throw new Error(`no role ${account}/${name}`);
    return r;
  }
  user(account: string, name: string): User {
    const u = this.users.get(`${account}/${name}`);
    if (!u) throw new Error(`no user ${account}/${name}`);
    return u;
  }
  ip(name: string): string {
    const v = this.ips.get(name);
    if (!v) throw new Error(`no ip ${name}`);
    return v;
  }
}

// ---------------------------------------------------------------------------------------------
// Identity builders
// ---------------------------------------------------------------------------------------------

function hourStart(t: number): number {
  return t - (t % HOUR);
}

function roleUI(role: Role, session: string, t: number, o: { invokedBy?: string; mfa?: boolean; sessionStart?: number } = {}): UserIdentity {
  const start = o.sessionStart ?? hourStart(t) - (fnv(role.name + session) % 40) * MIN;
  return {
    type: 'AssumedRole',
    principalId: `${role.id}:${session}`,
    arn: `arn:aws:sts::${role.account}:assumed-role/${role.name}/${session}`,
    accountId: role.account,
    accessKeyId: derivedId('ASIA', `${role.arn}|${session}|${start}`),
    sessionContext: {
      sessionIssuer: { type: 'Role', principalId: role.id, arn: role.arn, accountId: role.account, userName: role.name },
      webIdFederationData: {},
      attributes: { creationDate: iso(start), mfaAuthenticated: o.mfa ? 'true' : 'false' },
    },
    invokedBy: o.invokedBy,
  };
}

function userUI(u: User, invokedBy?: string): UserIdentity {
  return { type: 'IAMUser', principalId: u.id, arn: u.arn, accountId: u.account, accessKeyId: u.akid, userName: u.name, invokedBy };
}

function rootUI(account: string, t: number): UserIdentity {
  const start = hourStart(t) - 7 * MIN;
  return {
    type: 'Root',
    principalId: account,
    arn: `arn:aws:iam::${account}:root`,
    accountId: account,
    accessKeyId: derivedId('ASIA', `root|${account}|${start}`),
    sessionContext: { sessionIssuer: {}, webIdFederationData: {}, attributes: { creationDate: iso(start), mfaAuthenticated: 'true' } },
  };
}

const serviceUI = (svc: string): UserIdentity => ({ type: 'AWSService', invokedBy: svc });
const kmsInternalUI = (account: string): UserIdentity => ({ accountId: account, invokedBy: 'AWS Internal' });

/** A call made by an AWS service on behalf of an identity (no TLS details, service as source). */
function viaService(ui: UserIdentity, svc: string, ip?: string): Call {
  return { ui: { ...ui, invokedBy: svc }, ip: ip ?? svc, ua: svc, tls: false };
}

function principalOf(ui: UserIdentity): string {
  const sc = ui.sessionContext as { sessionIssuer?: { arn?: string } } | undefined;
  if (sc?.sessionIssuer?.arn) return sc.sessionIssuer.arn;
  if (ui.arn) return ui.arn;
  if (ui.type === 'AWSService' && ui.invokedBy) return `service:${ui.invokedBy}`;
  return '<internal>';
}

// ---------------------------------------------------------------------------------------------
// KMS record builders
// ---------------------------------------------------------------------------------------------

const kmsRes = (k: Key | string): Resource => {
  const arn = typeof k === 'string' ? k : k.arn;
  return { accountId: arn.split(':')[4]!, type: 'AWS::KMS::Key', ARN: arn };
};

function denyMsg(ui: UserIdentity, action: string, keyArn: string, rng: Rng): string {
  return rng.chance(0.5)
    ? `User: ${ui.arn} is not authorized to perform: kms:${action} on resource: ${keyArn} because no identity-based policy allows the kms:${action} action`
    : `User: ${ui.arn} is not authorized to perform: kms:${action} on this resource because the resource does not exist in this Region, no resource-based policies allow access, or a resource-based policy explicitly denies access`;
}

interface KmsCtx {
  rng: Rng;
  t: number;
  c: Call;
  recipient?: string;
  ec?: Record<string, string>;
  deny?: boolean;
  region?: string;
  error?: readonly [string, string];
}

function kmsCall(x: KmsCtx, k: Key, name: string, req: unknown, o: RecOpts = {}): CtRecord {
  const region = x.region ?? k.region;
  const error = x.error ?? (x.deny ? (['AccessDenied', denyMsg(x.c.ui, name, k.arn, x.rng)] as const) : undefined);
  return rec(x.rng, x.t, 'kms', name, region, x.recipient ?? k.account, x.c, req, { resources: [kmsRes(k)], error, ...o });
}
const kmsDecrypt = (x: KmsCtx, k: Key): CtRecord =>
  kmsCall(x, k, 'Decrypt', { encryptionContext: x.ec, encryptionAlgorithm: 'SYMMETRIC_DEFAULT' });
const kmsEncrypt = (x: KmsCtx, k: Key, keyId?: string): CtRecord =>
  kmsCall(x, k, 'Encrypt', { keyId: keyId ?? k.alias ?? k.arn, encryptionContext: x.ec, encryptionAlgorithm: 'SYMMETRIC_DEFAULT' });
const kmsGdk = (x: KmsCtx, k: Key, keyId?: string): CtRecord =>
  kmsCall(x, k, 'GenerateDataKey', { keyId: keyId ?? k.arn, encryptionContext: x.ec, keySpec: 'AES_256' });
const kmsGdkNoPt = (x: KmsCtx, k: Key, keyId?: string): CtRecord =>
  kmsCall(x, k, 'GenerateDataKeyWithoutPlaintext', { keyId: keyId ?? k.arn, encryptionContext: x.ec, keySpec: 'AES_256' });
const kmsSimple = (x: KmsCtx, k: Key, name: string, keyId?: string, o: RecOpts = {}): CtRecord =>
  kmsCall(x, k, name, { keyId: keyId ?? k.id }, o);
function kmsNoKey(x: KmsCtx, region: string, account: string, name: string, req: unknown): CtRecord {
  const error = x.deny ? (['AccessDenied', `User: ${x.c.ui.arn} is not authorized to perform: kms:${name} on resource: * because no identity-based policy allows the kms:${name} action`] as const) : undefined;
  return rec(x.rng, x.t, 'kms', name, region, account, x.c, req, { error });
}
function kmsReEncrypt(x: KmsCtx, src: Key, dst: Key): CtRecord {
  return rec(
    x.rng,
    x.t,
    'kms',
    'ReEncrypt',
    src.region,
    src.account,
    x.c,
    {
      sourceEncryptionContext: x.ec,
      sourceEncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
      destinationKeyId: dst.alias ?? dst.arn,
      destinationEncryptionContext: x.ec,
      destinationEncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
    },
    { resources: [kmsRes(src), kmsRes(dst)] },
  );
}
function kmsRotateKey(rng: Rng, t: number, k: Key): CtRecord {
  return rec(rng, t, 'kms', 'RotateKey', k.region, k.account, { ui: kmsInternalUI(k.account), ip: 'AWS Internal', ua: 'AWS Internal', tls: false }, null, {
    eventType: 'AwsServiceEvent',
    readOnly: false,
    resources: [kmsRes(k)],
    add: undefined,
    ver: '1.08',
  });
}

function keyMetadata(k: Key, t: number, origin: string, enabled: boolean, state: string, description: string) {
  return {
    keyMetadata: {
      aWSAccountId: k.account,
      keyId: k.id,
      arn: k.arn,
      creationDate: awsDate(t),
      enabled,
      description,
      keyUsage: 'ENCRYPT_DECRYPT',
      keyState: state,
      origin,
      keyManager: 'CUSTOMER',
      customerMasterKeySpec: 'SYMMETRIC_DEFAULT',
      keySpec: 'SYMMETRIC_DEFAULT',
      encryptionAlgorithms: ['SYMMETRIC_DEFAULT'],
      multiRegion: false,
    },
  };
}

function defaultPolicy(account: string, extra: unknown[] = []): string {
  return JSON.stringify(
    {
      Version: '2012-10-17',
      Id: 'key-default-1',
      Statement: [
        { Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: 'kms:*', Resource: '*' },
        ...extra,
      ],
    },
    null,
    2,
  );
}

// ---------------------------------------------------------------------------------------------
// Non-KMS record builders
// ---------------------------------------------------------------------------------------------

function s3Object(rng: Rng, t: number, c: Call, region: string, account: string, name: 'GetObject' | 'PutObject' | 'HeadObject', bucket: string, key: string, sse: boolean, bytes: number): CtRecord {
  const put = name === 'PutObject';
  return rec(
    rng,
    t,
    's3',
    name,
    region,
    account,
    c,
    { bucketName: bucket, Host: `${bucket}.s3.${region}.amazonaws.com`, key, 'x-amz-server-side-encryption': put && sse ? 'aws:kms' : undefined },
    {
      data: true,
      readOnly: !put,
      host: `${bucket}.s3.${region}.amazonaws.com`,
      requestID: rng.str('ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', 16),
      resp: put && sse ? { 'x-amz-server-side-encryption': 'aws:kms', 'x-amz-server-side-encryption-aws-kms-key-id': undefined } : null,
      add: {
        SignatureVersion: 'SigV4',
        CipherSuite: 'TLS_AES_128_GCM_SHA256',
        bytesTransferredIn: put ? bytes : 0,
        SSEApplied: sse ? 'SSE_KMS' : 'Default_SSE_S3',
        AuthenticationMethod: 'AuthHeader',
        'x-amz-id-2': rng.str(ALNUM + '+/', 76),
        bytesTransferredOut: put ? 0 : bytes,
      },
      resources: [
        { type: 'AWS::S3::Object', ARN: `arn:aws:s3:::${bucket}/${key}` },
        { accountId: account, type: 'AWS::S3::Bucket', ARN: `arn:aws:s3:::${bucket}` },
      ],
    },
  );
}

function stsAssumeRole(rng: Rng, t: number, c: Call, region: string, account: string, role: Role, session: string, duration = 3600): CtRecord {
  const akid = derivedId('ASIA', `${role.arn}|${session}|${t}`);
  return rec(
    rng,
    t,
    'sts',
    'AssumeRole',
    region,
    account,
    c,
    { roleArn: role.arn, roleSessionName: session, durationSeconds: duration },
    {
      resp: {
        credentials: { accessKeyId: akid, sessionToken: rng.str(ALNUM + '+/', 96), expiration: awsDate(t + duration * SEC) },
        assumedRoleUser: { assumedRoleId: `${role.id}:${session}`, arn: `arn:aws:sts::${role.account}:assumed-role/${role.name}/${session}` },
      },
      resources: [{ accountId: role.account, type: 'AWS::IAM::Role', ARN: role.arn }],
      sharedEventID: c.ui.type === 'AWSService' ? rng.uuid() : undefined,
    },
  );
}

const EC2_DESCRIBE: readonly (readonly [string, unknown])[] = [
  ['DescribeInstances', { instancesSet: {}, filterSet: { items: [{ name: 'instance-state-name', valueSet: { items: [{ value: 'running' }] } }] } }],
  ['DescribeVolumes', { volumeSet: {}, filterSet: {} }],
  ['DescribeSecurityGroups', { securityGroupSet: {}, securityGroupIdSet: {}, filterSet: {} }],
  ['DescribeSubnets', { subnetSet: {}, filterSet: {} }],
  ['DescribeNetworkInterfaces', { networkInterfaceIdSet: {}, filterSet: {} }],
  ['DescribeSnapshots', { snapshotSet: {}, ownersSet: { items: [{ owner: 'self' }] }, filterSet: {} }],
  ['DescribeVpcs', { vpcSet: {}, filterSet: {} }],
];

function ec2Describe(rng: Rng, t: number, c: Call, region: string, account: string, which?: number): CtRecord {
  const [name, req] = EC2_DESCRIBE[which ?? rng.int(EC2_DESCRIBE.length)]!;
  return rec(rng, t, 'ec2', name, region, account, c, req, { host: `ec2.${region}.amazonaws.com` });
}

function iamRead(rng: Rng, t: number, c: Call, account: string, roleName: string): CtRecord {
  const which = rng.int(4);
  const name = ['GetRole', 'ListAttachedRolePolicies', 'ListRolePolicies', 'ListRoles'][which]!;
  const req = which === 3 ? { maxItems: 100 } : { roleName };
  return rec(rng, t, 'iam', name, 'us-east-1', account, c, req, { host: 'iam.amazonaws.com' });
}

function genericCall(rng: Rng, t: number, c: Call, svc: string, name: string, region: string, account: string, req: unknown, o: RecOpts = {}): CtRecord {
  return rec(rng, t, svc, name, region, account, c, req, o);
}

// ---------------------------------------------------------------------------------------------
// Streams: per-window Poisson bursts of related calls
// ---------------------------------------------------------------------------------------------

interface G {
  rng: Rng;
  cat: Catalog;
  out: Item[];
  day: number;
  dayStart: number;
  start: number;
  /** Key ARN -> time it was disabled (only when anomalies are on). */
  disabled: Map<string, number>;
  scale: number;
  /** Days of normal history before the anomalies. */
  hist: number;
}

type Profile = number[]; // 24 hourly weights, mean 1

function profile(f: (h: number) => number): Profile {
  const w = Array.from({ length: 24 }, (_, h) => f(h + 0.5));
  const mean = w.reduce((a, b) => a + b, 0) / 24;
  return w.map((x) => x / mean);
}
const P_FLAT = profile(() => 1);
const P_SERVICE = profile((h) => 1 + 0.3 * Math.cos((2 * Math.PI * (h - 16)) / 24));
const P_APP = profile((h) => 1 + 0.65 * Math.cos((2 * Math.PI * (h - 18)) / 24));
const P_US_BUSINESS = profile((h) => (h >= 13 && h < 22 ? 5 : h >= 11 && h < 24 ? 1.5 : 0.1));
const P_EU_BUSINESS = profile((h) => (h >= 7 && h < 17 ? 5 : h >= 5 && h < 20 ? 1.2 : 0.1));

interface StreamDef<S> {
  id: string;
  account: string;
  region: string;
  /** Bursts per day at scale 1. */
  bursts: number;
  /** Bursts scale as scale^exp (0: fixed volume). */
  exp: number;
  /** Minimum bursts per day whatever the scale. */
  floor?: number;
  /** Burst size in units: lognormal. */
  size: { median: number; sigma: number; max: number; exp?: number; floor?: number };
  profile?: Profile;
  /** Weekend multiplier (default 1). */
  weekend?: number;
  /** Fixed start minutes-of-day; each gives exactly one burst on active days (bursts/profile ignored). */
  cron?: number[];
  /** Day filter (day index, weekday 0=Sun). */
  active?: (day: number, dow: number) => boolean;
  /** Mean gap between units in a burst, seconds. */
  gap: number;
  begin: (g: G, t: number) => S;
  unit: (g: G, t: number, s: S, i: number) => void;
}

interface Stream {
  def: StreamDef<unknown>;
  perWindow: number[]; // expected bursts per window by hour at the chosen scale
}

function defineStream<S>(d: StreamDef<S>): StreamDef<unknown> {
  return d as unknown as StreamDef<unknown>;
}

function push(g: G, r: CtRecord, t: number): void {
  g.out.push({ t, r });
}

/** Pick a usable key; disabled keys yield null after their disable time. */
function usable(g: G, k: Key, t: number): boolean {
  const d = g.disabled.get(k.arn);
  return d === undefined || t < d;
}

function buildStreams(cat: Catalog): StreamDef<unknown>[] {
  const A1 = '111111111111';
  const A2 = '222222222222';
  const A3 = '333333333333';
  const S: StreamDef<unknown>[] = [];
  const weekday = (_d: number, dow: number) => dow >= 1 && dow <= 5;

  // ---- A1 us-east-1: data lake -------------------------------------------------------------
  {
    const role = cat.role(A1, 'DataLakeAnalyticsRole');
    const curated = cat.key(A1, 'us-east-1', 'datalake-curated');
    const bucket = `acme-datalake-curated-${A1}`;
    const vpce = cat.vpce.get(`${A1}/us-east-1/s3`)!;
    const tables = ['sales', 'orders', 'customers', 'clickstream', 'inventory', 'payments'];
    type DlState = { session: string; table: string; day: string; glue: boolean };
    const dlUnit = (g: G, t: number, s: DlState, i: number): void => {
      const key = `${s.table}/dt=${s.day}/part-${String(i).padStart(5, '0')}-${g.rng.hex(8)}.c000.snappy.parquet`;
      const ui = roleUI(role, s.session, t);
      const c: Call = s.glue
        ? { ui, ip: `10.20.${g.rng.range(0, 15)}.${g.rng.range(4, 250)}`, ua: UA.glue, tls: true, vpce }
        : { ui: { ...ui, invokedBy: 'athena.amazonaws.com' }, ip: 'athena.amazonaws.com', ua: 'athena.amazonaws.com', tls: false };
      if (g.rng.chance(0.1)) push(g, s3Object(g.rng, t - 30, c, 'us-east-1', A1, 'HeadObject', bucket, key, true, 0), t - 30);
      if (g.rng.chance(0.75)) push(g, s3Object(g.rng, t, c, 'us-east-1', A1, 'GetObject', bucket, key, true, g.rng.range(200_000, 64_000_000)), t);
      push(g, kmsDecrypt({ rng: g.rng, t: t + 40, c: viaService(ui, 's3.amazonaws.com'), ec: { 'aws:s3:arn': `arn:aws:s3:::${bucket}/${key}` } }, curated), t + 40);
    };
    const dlBegin = (glue: boolean) => (g: G): DlState => ({
      glue,
      session: glue ? 'GlueJobRunnerSession' : `athena-${g.rng.hex(8)}`,
      table: g.rng.pick(tables),
      day: ymd(g.dayStart - g.rng.int(30) * DAY),
    });
    // Glue job every 3 hours: the steady, high-volume S3-on-behalf-of-the-role Decrypt traffic (every day).
    S.push(
      defineStream<DlState>({
        id: 'datalake-glue',
        account: A1,
        region: 'us-east-1',
        bursts: 8,
        exp: 0,
        cron: Array.from({ length: 8 }, (_, h) => h * 180 + 20),
        size: { median: 26, sigma: 0.2, max: 2500, exp: 1, floor: 26 },
        gap: 2,
        begin: dlBegin(true),
        unit: dlUnit,
      }),
    );
    // Ad-hoc Athena queries: bursty, scales with the trail size.
    S.push(
      defineStream<DlState>({
        id: 'datalake-athena',
        account: A1,
        region: 'us-east-1',
        bursts: 8,
        exp: 1,
        size: { median: 10, sigma: 0.9, max: 2500 },
        profile: P_SERVICE,
        gap: 1,
        begin: dlBegin(false),
        unit: dlUnit,
      }),
    );
  }
  {
    const role = cat.role(A1, 'IngestLambdaRole');
    const raw = cat.key(A1, 'us-east-1', 'datalake-raw');
    const bucket = `acme-datalake-raw-${A1}`;
    S.push(
      defineStream<{ src: string }>({
        id: 'datalake-ingest',
        account: A1,
        region: 'us-east-1',
        bursts: 30,
        exp: 1,
        size: { median: 4, sigma: 0.8, max: 400 },
        profile: P_APP,
        gap: 2,
        begin: (g) => ({ src: g.rng.pick(['web', 'mobile', 'partner', 'iot']) }),
        unit: (g, t, s) => {
          const ui = roleUI(role, 'ingest-events', t);
          const key = `events/source=${s.src}/${iso(t).slice(0, 13).replace('T', '/')}/batch-${g.rng.hex(12)}.json.gz`;
          const c: Call = { ui, ip: pubIpFor(g, `nat1/${A1}/us-east-1`), ua: UA.boto3Lambda, tls: true };
          push(g, s3Object(g.rng, t, c, 'us-east-1', A1, 'PutObject', bucket, key, true, g.rng.range(2_000, 900_000)), t);
          push(g, kmsGdk({ rng: g.rng, t, c: viaService(ui, 's3.amazonaws.com'), ec: { 'aws:s3:arn': `arn:aws:s3:::${bucket}/${key}` } }, raw), t);
        },
      }),
    );
  }
  for (const [acct, region, mult] of [
    [A1, 'us-east-1', 1],
    [A2, 'us-east-1', 0.8],
  ] as const) {
    const role = cat.role(acct, 'MonitoringReadOnlyRole');
    S.push(
      defineStream<{ ip: string }>({
        id: `monitoring-${acct}-${region}`,
        account: acct,
        region,
        bursts: 20 * mult,
        exp: 1,
        floor: 5,
        size: { median: 5, sigma: 0.5, max: 60 },
        profile: P_FLAT,
        gap: 0.4,
        begin: (g) => ({ ip: g.rng.chance(0.5) ? cat.ip('vendor1') : cat.ip('vendor2') }),
        unit: (g, t, s, i) => {
          const c: Call = { ui: roleUI(role, 'vendor-poller', t), ip: s.ip, ua: UA.vendor, tls: true, tls12: true };
          if (i % 3 === 2)
            push(
              g,
              genericCall(g.rng, t, c, 'monitoring', 'GetMetricData', region, acct, {
                startTime: awsDate(t - 10 * MIN),
                endTime: awsDate(t),
                metricDataQueries: [{ id: 'm1', metricStat: { metric: { namespace: 'AWS/EC2', metricName: 'CPUUtilization' }, period: 300, stat: 'Average' } }],
              }),
              t,
            );
          else push(g, ec2Describe(g.rng, t, c, region, acct, i % EC2_DESCRIBE.length), t);
        },
      }),
    );
  }
  {
    const role = cat.role(A1, 'AWSServiceRoleForAutoScaling');
    const ebs = cat.key(A1, 'us-east-1', 'aws/ebs');
    S.push(
      defineStream<{ n: number }>({
        id: 'asg-ebs',
        account: A1,
        region: 'us-east-1',
        bursts: 5,
        exp: 1,
        floor: 1,
        size: { median: 2, sigma: 0.6, max: 30 },
        profile: P_APP,
        gap: 3,
        begin: () => ({ n: 0 }),
        unit: (g, t) => {
          const c = viaService(roleUI(role, 'AutoScaling', t), 'autoscaling.amazonaws.com');
          const vol = 'vol-' + g.rng.hex(17);
          push(g, genericCall(g.rng, t, c, 'ec2', 'RunInstances', 'us-east-1', A1, { instancesSet: { items: [{ imageId: 'ami-0' + g.rng.hex(16), minCount: 1, maxCount: 1 }] }, instanceType: 'm6i.large', launchTemplate: { launchTemplateId: 'lt-0' + g.rng.hex(16), version: '$Latest' } }, { readOnly: false }), t);
          push(g, kmsGdkNoPt({ rng: g.rng, t: t + 2000, c, ec: { 'aws:ebs:id': vol } }, ebs, 'alias/aws/ebs'), t + 2000);
          push(g, kmsDecrypt({ rng: g.rng, t: t + 4000, c, ec: { 'aws:ebs:id': vol } }, ebs), t + 4000);
        },
      }),
    );
  }
  // AWS services assuming roles (sts AssumeRole by AWSService identities)
  for (const [acct, region, roleName, svc, session, mult] of [
    [A1, 'us-east-1', 'IngestLambdaRole', 'lambda.amazonaws.com', 'ingest-events', 1],
    [A1, 'us-east-1', 'DataLakeAnalyticsRole', 'glue.amazonaws.com', 'GlueJobRunnerSession', 1],
    [A2, 'us-east-1', 'AppBackendRole', 'ecs-tasks.amazonaws.com', 'ecs-task', 1.4],
    [A2, 'us-east-1', 'ReportingRole', 'lambda.amazonaws.com', 'report-builder', 0.3],
    [A2, 'eu-west-1', 'AppBackendRole', 'ecs-tasks.amazonaws.com', 'ecs-task', 0.7],
    [A3, 'us-east-1', 'BuildAgentRole', 'ec2.amazonaws.com', 'i-build', 0.4],
    [A3, 'us-west-2', 'OpsLambdaRole', 'lambda.amazonaws.com', 'cleanup-snapshots', 0.3],
  ] as const) {
    const role = cat.role(acct, roleName);
    S.push(
      defineStream<null>({
        id: `sts-${acct}-${region}-${roleName}`,
        account: acct,
        region,
        bursts: 10 * mult,
        exp: 1,
        size: { median: 1, sigma: 0.4, max: 6 },
        profile: P_APP,
        gap: 5,
        begin: () => null,
        unit: (g, t) => {
          const sess = session === 'ecs-task' ? g.rng.hex(32) : session === 'i-build' ? 'i-0' + g.rng.hex(16) : session;
          push(g, stsAssumeRole(g.rng, t, { ui: serviceUI(svc), ip: svc, ua: svc, tls: false }, region, acct, role, sess), t);
        },
      }),
    );
  }
  // Config recorder (AWS service acting through its service-linked role): ec2 + KMS reads
  for (const [acct, region, keyAliases, mult] of [
    [A1, 'us-east-1', ['datalake-raw', 'datalake-curated', 'app-data'], 1],
    [A1, 'us-west-2', ['dr-data', 'legacy-archive'], 0.6],
    [A1, 'eu-west-1', ['eu-data'], 0.5],
    [A2, 'us-east-1', ['app-data', 'reports', 'secrets'], 1],
    [A2, 'eu-west-1', ['app-data-eu', 'payments-eu'], 0.5],
    [A3, 'us-east-1', ['org-cloudtrail-logs', 'shared-tools', 'build-artifacts'], 0.8],
    [A3, 'us-west-2', ['ops'], 0.5],
  ] as const) {
    const role = cat.role(acct, 'AWSServiceRoleForConfig');
    const keys = keyAliases.map((a) => cat.key(acct, region, a));
    S.push(
      defineStream<null>({
        id: `config-${acct}-${region}`,
        account: acct,
        region,
        bursts: 4 * mult,
        exp: 0.8,
        size: { median: 6, sigma: 0.5, max: 40 },
        profile: P_FLAT,
        gap: 1,
        begin: () => null,
        unit: (g, t, _s, i) => {
          const c = viaService(roleUI(role, 'AWSConfig-Describe', t), 'config.amazonaws.com');
          if (i % 3 === 0) {
            const k = g.rng.pick(keys);
            const name = g.rng.pick(['DescribeKey', 'GetKeyRotationStatus', 'ListResourceTags', 'GetKeyPolicy']);
            push(g, kmsCall({ rng: g.rng, t, c }, k, name, name === 'GetKeyPolicy' ? { keyId: k.arn, policyName: 'default' } : { keyId: k.arn }), t);
          } else push(g, ec2Describe(g.rng, t, c, region, acct), t);
        },
      }),
    );
  }

  // ---- A1 us-west-2 ------------------------------------------------------------------------
  for (const [region, full] of [
    ['us-east-1', false],
    ['us-west-2', false],
    ['us-east-1', true],
  ] as const) {
    const role = cat.role(A1, 'AWSBackupDefaultServiceRole');
    const key = cat.key(A1, region, 'backup');
    S.push(
      defineStream<{ job: string }>({
        id: `backup-${region}${full ? '-full' : ''}`,
        account: A1,
        region,
        bursts: 1,
        exp: 0,
        // nightly incremental; the weekly full backup (Sunday) is one of the few very busy windows
        cron: [full ? 3 * 60 + 50 : region === 'us-east-1' ? 3 * 60 + 5 : 3 * 60 + 35],
        active: full ? (_d, dow) => dow === 0 : (_d, dow) => dow !== 0,
        size: full ? { median: 360, sigma: 0.25, max: 2400, exp: 0.5, floor: 360 } : { median: 140, sigma: 0.35, max: 1800, exp: 0.7 },
        gap: 0.25,
        begin: (g) => ({ job: g.rng.uuid().toUpperCase() }),
        unit: (g, t, s) => {
          const c = viaService(roleUI(role, 'AWSBackup-AWSBackupDefaultServiceRole', t), 'backup.amazonaws.com');
          const r = g.rng.float();
          const ec = { 'aws:backup:backup-vault': 'Default', 'aws:backup:source-resource': `arn:aws:ec2:${region}::snapshot/snap-${g.rng.hex(17)}` };
          if (r < 0.3) push(g, kmsGdk({ rng: g.rng, t, c, ec }, key), t);
          else if (r < 0.5) push(g, kmsDecrypt({ rng: g.rng, t, c, ec }, key), t);
          else if (r < 0.55) push(g, kmsSimple({ rng: g.rng, t, c }, key, 'DescribeKey', key.arn), t);
          else if (r < 0.75) push(g, ec2Describe(g.rng, t, c, region, A1, 5), t);
          else
            push(
              g,
              genericCall(g.rng, t, c, 'ec2', 'CreateSnapshot', region, A1, { volumeId: 'vol-0' + g.rng.hex(16), description: `This snapshot is created by the AWS Backup service. Job ${s.job}` }, { readOnly: false }),
              t,
            );
        },
      }),
    );
  }
  {
    const role = cat.role(A1, 'DrSyncRole');
    const key = cat.key(A1, 'us-west-2', 'dr-data');
    const bucket = `acme-dr-replica-${A1}`;
    S.push(
      defineStream<null>({
        id: 'dr-sync',
        account: A1,
        region: 'us-west-2',
        bursts: 8,
        exp: 1,
        size: { median: 5, sigma: 0.9, max: 600 },
        profile: P_SERVICE,
        gap: 2,
        begin: () => null,
        unit: (g, t) => {
          const ui = roleUI(role, 'dr-sync', t);
          const objKey = `replica/${ymd(t)}/${g.rng.hex(20)}.bin`;
          const c: Call = { ui, ip: pubIpFor(g, `nat1/${A1}/us-west-2`), ua: UA.goSdk, tls: true };
          push(g, s3Object(g.rng, t, c, 'us-west-2', A1, 'PutObject', bucket, objKey, true, g.rng.range(10_000, 20_000_000)), t);
          if (usable(g, key, t)) push(g, kmsGdk({ rng: g.rng, t, c: viaService(ui, 's3.amazonaws.com'), ec: { 'aws:s3:arn': `arn:aws:s3:::${bucket}/${objKey}` } }, key), t);
        },
      }),
    );
  }
  {
    const role = cat.role(A1, 'ArchiveJobRole');
    const key = cat.key(A1, 'us-west-2', 'legacy-archive');
    S.push(
      defineStream<null>({
        id: 'archive-weekly',
        account: A1,
        region: 'us-west-2',
        bursts: 1,
        exp: 0,
        cron: [2 * 60 + 10],
        active: (_d, dow) => dow === 0,
        size: { median: 24, sigma: 0.2, max: 60 },
        gap: 3,
        begin: () => null,
        unit: (g, t) => {
          const c: Call = { ui: roleUI(role, 'archive-weekly', t), ip: pubIpFor(g, `nat2/${A1}/us-west-2`), ua: UA.boto3, tls: true };
          const dis = g.disabled.get(key.arn);
          const err = dis !== undefined && t >= dis ? ([`DisabledException`, `${key.arn} is disabled.`] as const) : undefined;
          push(g, kmsCall({ rng: g.rng, t, c, ec: { archive: 'legacy-ledger' }, error: err }, key, 'Decrypt', { encryptionContext: { archive: 'legacy-ledger' }, encryptionAlgorithm: 'SYMMETRIC_DEFAULT' }), t);
        },
      }),
    );
  }

  // ---- A1 eu-west-1 (quiet) ------------------------------------------------------------------
  {
    const role = cat.role(A1, 'EuApiLambdaRole');
    const eu = cat.key(A1, 'eu-west-1', 'eu-data');
    const lam = cat.key(A1, 'eu-west-1', 'aws/lambda');
    S.push(
      defineStream<null>({
        id: 'eu-api',
        account: A1,
        region: 'eu-west-1',
        bursts: 10,
        exp: 0.8,
        size: { median: 3, sigma: 0.7, max: 100 },
        profile: P_EU_BUSINESS,
        gap: 4,
        begin: () => null,
        unit: (g, t) => {
          const ui = roleUI(role, 'eu-api-handler', t);
          const r = g.rng.float();
          if (r < 0.3) {
            push(g, kmsDecrypt({ rng: g.rng, t, c: { ui, ip: 'AWS Internal', ua: 'AWS Internal', tls: false }, ec: { LambdaFunctionName: 'eu-api-handler' } }, lam), t);
          } else if (r < 0.65) {
            const c: Call = { ui, ip: pubIpFor(g, `nat1/${A1}/eu-west-1`), ua: UA.boto3Lambda, tls: true };
            push(g, genericCall(g.rng, t, c, 'secretsmanager', 'GetSecretValue', 'eu-west-1', A1, { secretId: 'prod/eu-api/db' }), t);
            push(g, kmsDecrypt({ rng: g.rng, t: t + 120, c: viaService(ui, 'secretsmanager.amazonaws.com'), ec: { SecretARN: `arn:aws:secretsmanager:eu-west-1:${A1}:secret:prod/eu-api/db-${g.rng.str(ALNUM, 6)}`, SecretVersionId: g.rng.uuid() } }, eu), t + 120);
          } else {
            const c: Call = { ui, ip: pubIpFor(g, `nat1/${A1}/eu-west-1`), ua: UA.boto3Lambda, tls: true };
            push(g, kmsEncrypt({ rng: g.rng, t, c, ec: { tenant: `eu-${g.rng.range(100, 160)}` } }, eu), t);
          }
        },
      }),
    );
  }

  // ---- A2 us-east-1: applications ----------------------------------------------------------
  for (const [region, mult, keyNames] of [
    ['us-east-1', 1, ['app-data', 'secrets']],
    ['eu-west-1', 0.45, ['app-data-eu', 'payments-eu']],
  ] as const) {
    const role = cat.role(A2, 'AppBackendRole');
    const appKey = cat.key(A2, region, keyNames[0]);
    const k2 = cat.key(A2, region, keyNames[1]);
    const vpce = cat.vpce.get(`${A2}/${region}/kms`)!;
    S.push(
      defineStream<{ task: string; ip: string; vpce: boolean }>({
        id: `app-backend-${region}`,
        account: A2,
        region,
        bursts: 50 * mult,
        exp: 1,
        floor: 4 * mult,
        size: { median: 7, sigma: 1.0, max: 2500 },
        profile: P_APP,
        weekend: 0.75,
        gap: 0.8,
        begin: (g) => {
          const vp = g.rng.chance(0.4);
          return {
            // a handful of long-running ECS tasks per day
            task: derivedId('', `${region}|${g.day}|${g.rng.int(6)}`, 32).toLowerCase(),
            ip: vp ? `10.40.${g.rng.range(0, 31)}.${g.rng.range(4, 250)}` : pubIpFor(g, g.rng.chance(0.5) ? `nat1/${A2}/${region}` : `nat2/${A2}/${region}`),
            vpce: vp,
          };
        },
        unit: (g, t, s) => {
          const ui = roleUI(role, s.task, t);
          const c: Call = { ui, ip: s.ip, ua: UA.javaEcs, tls: true, vpce: s.vpce ? vpce : undefined };
          const ec = { tenant: `t-${g.rng.range(1000, 1400)}`, purpose: g.rng.pick(['session', 'profile', 'document']) };
          const deny = g.rng.chance(0.0008);
          const r = g.rng.float();
          const x: KmsCtx = { rng: g.rng, t, c, ec, deny };
          if (r < 0.2) push(g, kmsDecrypt(x, appKey), t);
          else if (r < 0.27) push(g, kmsEncrypt(x, appKey), t);
          else if (r < 0.33) push(g, kmsGdk(x, appKey, g.rng.chance(0.5) ? appKey.alias! : appKey.arn), t);
          else if (r < 0.345) push(g, kmsReEncrypt(x, appKey, k2), t);
          else if (r < 0.47) {
            const cc: Call = { ...c, vpce: undefined, ip: s.vpce ? pubIpFor(g, `nat1/${A2}/${region}`) : s.ip };
            const secret = g.rng.pick(['prod/app/db', 'prod/app/stripe', 'prod/app/jwt']);
            push(g, genericCall(g.rng, t, cc, 'secretsmanager', 'GetSecretValue', region, A2, { secretId: secret }), t);
            push(g, kmsDecrypt({ rng: g.rng, t: t + 90, c: viaService(ui, 'secretsmanager.amazonaws.com'), ec: { SecretARN: `arn:aws:secretsmanager:${region}:${A2}:secret:${secret}-${g.rng.str(ALNUM, 6)}`, SecretVersionId: g.rng.uuid() } }, k2), t + 90);
          } else if (r < 0.61) {
            const cc: Call = { ...c, vpce: undefined };
            push(g, genericCall(g.rng, t, cc, 'ssm', 'GetParameters', region, A2, { names: ['/app/prod/feature-flags', '/app/prod/endpoints'], withDecryption: false }), t);
          } else if (r < 0.77) {
            const cc: Call = { ...c, vpce: undefined };
            push(g, genericCall(g.rng, t, cc, 'dynamodb', 'DescribeTable', region, A2, { tableName: g.rng.pick(['orders', 'sessions', 'profiles']) }), t);
          } else {
            const cc: Call = { ...c, vpce: undefined };
            const bucket = `acme-app-uploads-${A2}${region === 'eu-west-1' ? '-eu' : ''}`;
            push(g, s3Object(g.rng, t, cc, region, A2, g.rng.chance(0.5) ? 'PutObject' : 'GetObject', bucket, `uploads/${g.rng.hex(2)}/${g.rng.uuid()}.pdf`, false, g.rng.range(10_000, 5_000_000)), t);
          }
        },
      }),
    );
  }
  {
    // The volume-spike role: steady ~60 Decrypts a day on alias/reports, every day.
    const role = cat.role(A2, 'ReportingRole');
    const reports = cat.key(A2, 'us-east-1', 'reports');
    S.push(
      defineStream<null>({
        id: 'reporting',
        account: A2,
        region: 'us-east-1',
        bursts: 12,
        exp: 0,
        // every 2 hours at hh:57 (the 23:57 run is delivered after midnight, in the next day's folder)
        cron: Array.from({ length: 12 }, (_, i) => i * 120 + 117),
        size: { median: REPORTING_PER_RUN, sigma: 0.05, max: REPORTING_PER_RUN },
        gap: 6,
        begin: () => null,
        unit: (g, t) => {
          const ui = roleUI(role, 'report-builder', t);
          const c: Call = { ui, ip: pubIpFor(g, `nat2/${A2}/us-east-1`), ua: UA.nodeLambda, tls: true };
          const report = g.rng.pick(['daily-revenue', 'churn', 'inventory', 'kpi']);
          push(g, s3Object(g.rng, t - 400, c, 'us-east-1', A2, 'GetObject', `acme-reports-${A2}`, `staging/${report}/${ymd(t)}/input-${g.rng.hex(6)}.json.enc`, false, g.rng.range(5_000, 900_000)), t - 400);
          push(g, kmsDecrypt({ rng: g.rng, t, c, ec: { report } }, reports), t);
          if (g.rng.chance(0.4)) push(g, s3Object(g.rng, t + 800, c, 'us-east-1', A2, 'PutObject', `acme-reports-${A2}`, `reports/${ymd(t)}/${g.rng.hex(10)}.csv`, false, g.rng.range(5_000, 400_000)), t + 800);
        },
      }),
    );
  }
  {
    const role = cat.role(A2, 'SigningServiceRole');
    const k = cat.key(A2, 'us-east-1', 'signing');
    S.push(
      defineStream<null>({
        id: 'signing',
        account: A2,
        region: 'us-east-1',
        bursts: 12,
        exp: 1,
        floor: 1.5,
        size: { median: 3, sigma: 0.6, max: 80 },
        profile: P_APP,
        gap: 2,
        begin: () => null,
        unit: (g, t) => {
          const c: Call = { ui: roleUI(role, 'signer', t), ip: pubIpFor(g, `nat1/${A2}/us-east-1`), ua: UA.goSdk, tls: true };
          const name = g.rng.chance(0.7) ? 'Sign' : 'Verify';
          push(g, kmsCall({ rng: g.rng, t, c }, k, name, { keyId: k.alias, signingAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256', messageType: 'DIGEST' }), t);
        },
      }),
    );
  }
  {
    // VendorExportRole's normal life (the external_key_use anomaly reuses this identity).
    const role = cat.role(A2, 'VendorExportRole');
    const app = cat.key(A2, 'us-east-1', 'app-data');
    S.push(
      defineStream<null>({
        id: 'vendor-export',
        account: A2,
        region: 'us-east-1',
        bursts: 2,
        exp: 0,
        size: { median: 3, sigma: 0.3, max: 8 },
        profile: P_FLAT,
        gap: 5,
        begin: () => null,
        unit: (g, t) => {
          const c: Call = { ui: roleUI(role, 'export-job', t), ip: pubIpFor(g, `nat1/${A2}/us-east-1`), ua: UA.boto3, tls: true };
          push(g, kmsDecrypt({ rng: g.rng, t, c, ec: { export: 'partner-feed' } }, app), t);
          push(g, s3Object(g.rng, t + 500, c, 'us-east-1', A2, 'GetObject', `acme-app-uploads-${A2}`, `exports/${ymd(t)}/feed-${g.rng.hex(6)}.csv`, false, g.rng.range(1000, 90000)), t + 500);
        },
      }),
    );
  }

  // ---- humans --------------------------------------------------------------------------------
  {
    // sam.rivera: always from home or office IP (the new_source_ip anomaly actor).
    const u = cat.user(A2, 'sam.rivera');
    const keys = ['app-data', 'reports', 'secrets'].map((a) => cat.key(A2, 'us-east-1', a));
    S.push(
      defineStream<{ ip: string }>({
        id: 'sam',
        account: A2,
        region: 'us-east-1',
        bursts: 3,
        exp: 0,
        size: { median: 3, sigma: 0.5, max: 12 },
        profile: P_US_BUSINESS,
        active: weekday,
        gap: 40,
        begin: (g) => ({ ip: g.rng.chance(0.7) ? cat.ip('sam.office') : cat.ip('sam.home') }),
        unit: (g, t, s) => humanKmsUnit(g, t, { ui: userUI(u), ip: s.ip, ua: UA.cliMac, tls: true }, keys, 'us-east-1', A2),
      }),
    );
  }
  {
    // carol.ops: home IP until the end of the history; afterwards her (already known) office IP.
    const u = cat.user(A1, 'carol.ops');
    const keys = ['datalake-raw', 'datalake-curated', 'app-data'].map((a) => cat.key(A1, 'us-east-1', a));
    S.push(
      defineStream<{ ip: string }>({
        id: 'carol',
        account: A1,
        region: 'us-east-1',
        bursts: 3,
        exp: 0,
        size: { median: 3, sigma: 0.5, max: 12 },
        profile: P_US_BUSINESS,
        active: weekday,
        gap: 40,
        begin: (g) => ({ ip: g.day >= g.hist ? cat.ip('carol.office') : cat.ip('carol.home') }),
        unit: (g, t, s) => humanKmsUnit(g, t, { ui: userUI(u), ip: s.ip, ua: UA.cliLinux, tls: true }, keys, 'us-east-1', A1),
      }),
    );
  }
  {
    const u = cat.user(A1, 'jordan.lee');
    for (const region of ['us-east-1', 'us-west-2'] as const) {
      const keys = (region === 'us-east-1' ? ['datalake-raw', 'app-data'] : ['dr-data', 'legacy-archive']).map((a) => cat.key(A1, region, a));
      S.push(
        defineStream<null>({
          id: `jordan-${region}`,
          account: A1,
          region,
          bursts: 1.5,
          exp: 0,
          size: { median: 3, sigma: 0.5, max: 10 },
          profile: P_US_BUSINESS,
          active: weekday,
          gap: 50,
          begin: () => null,
          unit: (g, t) => {
            const c: Call = { ui: userUI(u), ip: cat.ip('jordan.office'), ua: UA.cliWin, tls: true };
            const k = g.rng.pick(keys);
            const r = g.rng.float();
            if (r < 0.3) push(g, kmsNoKey({ rng: g.rng, t, c }, region, A1, 'ListAliases', { limit: 100 }), t);
            else if (r < 0.6) push(g, kmsSimple({ rng: g.rng, t, c }, k, 'DescribeKey', k.alias ?? k.id), t);
            else if (r < 0.75) push(g, kmsCall({ rng: g.rng, t, c }, k, 'GetKeyPolicy', { keyId: k.id, policyName: 'default' }), t);
            else if (r < 0.85) push(g, kmsSimple({ rng: g.rng, t, c }, k, 'GetKeyRotationStatus', k.arn), t);
            else if (region === 'us-east-1') push(g, iamRead(g.rng, t, c, A1, 'DrSyncRole'), t);
            else push(g, ec2Describe(g.rng, t, c, region, A1), t);
          },
        }),
      );
    }
  }
  {
    const u = cat.user(A2, 'ci-deployer');
    const keys = ['app-data', 'reports', 'secrets', 'signing'].map((a) => cat.key(A2, 'us-east-1', a));
    S.push(
      defineStream<{ ip: string }>({
        id: 'ci-deployer',
        account: A2,
        region: 'us-east-1',
        bursts: 3,
        exp: 0.3,
        size: { median: 22, sigma: 0.4, max: 120 },
        profile: P_US_BUSINESS,
        active: weekday,
        gap: 0.7,
        begin: (g) => ({ ip: cat.ip(g.rng.pick(['gh1', 'gh2', 'gh3'])) }),
        unit: (g, t, s) => {
          const c: Call = { ui: userUI(u), ip: s.ip, ua: UA.terraform, tls: true };
          const k = g.rng.pick(keys);
          const r = g.rng.float();
          if (r < 0.12) push(g, kmsSimple({ rng: g.rng, t, c }, k, 'DescribeKey', k.arn), t);
          else if (r < 0.2) push(g, kmsCall({ rng: g.rng, t, c }, k, 'GetKeyPolicy', { keyId: k.arn, policyName: 'default' }), t);
          else if (r < 0.26) push(g, kmsSimple({ rng: g.rng, t, c }, k, 'GetKeyRotationStatus', k.arn), t);
          else if (r < 0.31) push(g, kmsSimple({ rng: g.rng, t, c }, k, 'ListResourceTags', k.arn), t);
          else if (r < 0.35) push(g, kmsNoKey({ rng: g.rng, t, c }, 'us-east-1', A2, 'ListAliases', {}), t);
          else if (r < 0.6) push(g, iamRead(g.rng, t, c, A2, g.rng.pick(['AppBackendRole', 'ReportingRole', 'SigningServiceRole'])), t);
          else if (r < 0.75) push(g, genericCall(g.rng, t, c, 'lambda', 'GetFunction20150331v2', 'us-east-1', A2, { functionName: g.rng.pick(['report-builder', 'api-authorizer', 'thumbnailer']) }), t);
          else push(g, ec2Describe(g.rng, t, c, 'us-east-1', A2), t);
        },
      }),
    );
  }
  {
    // SSO analysts (console) in A1: Athena + KMS reads, console sessions
    const role = cat.role(A1, 'DataAnalyst');
    const keys = ['datalake-curated', 'datalake-raw'].map((a) => cat.key(A1, 'us-east-1', a));
    S.push(
      defineStream<{ who: string; ip: string }>({
        id: 'analysts',
        account: A1,
        region: 'us-east-1',
        bursts: 6,
        exp: 0.4,
        size: { median: 5, sigma: 0.6, max: 40 },
        profile: P_US_BUSINESS,
        active: weekday,
        gap: 25,
        begin: (g) => (g.rng.chance(0.5) ? { who: 'ana.silva@example.com', ip: cat.ip('analyst1') } : { who: 'raj.patel@example.com', ip: cat.ip('analyst2') }),
        unit: (g, t, s) => {
          const ui = roleUI(role, s.who, t);
          const c: Call = { ui, ip: s.ip, ua: UA.browser, tls: true, console: true };
          const r = g.rng.float();
          if (r < 0.35) {
            const qid = g.rng.uuid();
            push(g, genericCall(g.rng, t, c, 'athena', 'StartQueryExecution', 'us-east-1', A1, { queryString: 'SELECT * FROM "curated"."sales" WHERE dt = \'' + ymd(t) + "' LIMIT 100", workGroup: 'analysts', queryExecutionContext: { database: 'curated' } }, { readOnly: false, resp: { queryExecutionId: qid } }), t);
            push(g, kmsGdk({ rng: g.rng, t: t + 3000, c: viaService(ui, 'athena.amazonaws.com'), ec: { 'aws:s3:arn': `arn:aws:s3:::acme-athena-results-${A1}/analysts/${qid}.csv` } }, keys[0]!), t + 3000);
          } else if (r < 0.55) push(g, genericCall(g.rng, t, c, 'glue', 'GetTables', 'us-east-1', A1, { databaseName: 'curated' }), t);
          else if (r < 0.7) push(g, kmsNoKey({ rng: g.rng, t, c: { ...c, ua: UA.internal } }, 'us-east-1', A1, 'ListAliases', {}), t);
          else if (r < 0.85) {
            const k = g.rng.pick(keys);
            push(g, kmsSimple({ rng: g.rng, t, c: { ...c, ua: UA.internal } }, k, 'DescribeKey', k.arn), t);
          } else push(g, genericCall(g.rng, t, c, 's3', 'ListBuckets', 'us-east-1', A1, { Host: 's3.amazonaws.com' }, { host: 's3.amazonaws.com' }), t);
        },
      }),
    );
  }
  {
    // read-only SSO user in A2 eu-west-1 and us-east-1 (console)
    const role = cat.role(A2, 'ReadOnly');
    for (const region of ['us-east-1', 'eu-west-1'] as const) {
      const keys = (region === 'us-east-1' ? ['app-data', 'reports'] : ['app-data-eu', 'payments-eu']).map((a) => cat.key(A2, region, a));
      S.push(
        defineStream<null>({
          id: `readonly-${region}`,
          account: A2,
          region,
          bursts: 2,
          exp: 0.3,
          size: { median: 4, sigma: 0.5, max: 20 },
          profile: region === 'us-east-1' ? P_US_BUSINESS : P_EU_BUSINESS,
          active: weekday,
          gap: 30,
          begin: () => null,
          unit: (g, t) => {
            const c: Call = { ui: roleUI(role, 'mia.jones@example.com', t), ip: cat.ip('readonly1'), ua: UA.internal, tls: true, console: true };
            const k = g.rng.pick(keys);
            const r = g.rng.float();
            if (r < 0.3) push(g, kmsNoKey({ rng: g.rng, t, c }, region, A2, 'ListKeys', { limit: 1000 }), t);
            else if (r < 0.6) push(g, kmsSimple({ rng: g.rng, t, c }, k, 'DescribeKey', k.arn), t);
            else push(g, ec2Describe(g.rng, t, c, region, A2, 0), t);
          },
        }),
      );
    }
  }

  // ---- A3 shared services ----------------------------------------------------------------------
  {
    // CloudTrail encrypting its own log files with the org log key (AWSService identity).
    const k = cat.key(A3, 'us-east-1', 'org-cloudtrail-logs');
    S.push(
      defineStream<null>({
        id: 'cloudtrail-sse',
        account: A3,
        region: 'us-east-1',
        bursts: 10,
        exp: 1,
        size: { median: 3, sigma: 0.6, max: 200 },
        profile: P_SERVICE,
        gap: 6,
        begin: () => null,
        unit: (g, t) => {
          const acct = g.rng.pick(ORG_ACCOUNTS);
          const region = g.rng.pick(ACCOUNT_REGIONS[acct]!);
          const c: Call = { ui: serviceUI('cloudtrail.amazonaws.com'), ip: 'cloudtrail.amazonaws.com', ua: 'cloudtrail.amazonaws.com', tls: false };
          push(
            g,
            kmsGdk(
              {
                rng: g.rng,
                t,
                c,
                ec: {
                  'aws:cloudtrail:arn': `arn:aws:cloudtrail:us-east-1:${A3}:trail/org-trail`,
                  'aws:s3:arn': `arn:aws:s3:::org-cloudtrail-logs-${A3}/AWSLogs/${acct}/CloudTrail/${region}/${ymd(t).replace(/-/g, '/')}/${acct}_CloudTrail_${region}_${compactStamp(t, false)}_${g.rng.str(ALNUM, 16)}.json.gz`,
                },
              },
              k,
            ),
            t,
          );
        },
      }),
    );
  }
  {
    const role = cat.role(A3, 'BuildAgentRole');
    const art = cat.key(A3, 'us-east-1', 'build-artifacts');
    const tools = cat.key(A3, 'us-east-1', 'shared-tools');
    S.push(
      defineStream<{ inst: string }>({
        id: 'build-agent',
        account: A3,
        region: 'us-east-1',
        bursts: 10,
        exp: 0.6,
        size: { median: 8, sigma: 0.7, max: 300 },
        profile: P_US_BUSINESS,
        weekend: 0.2,
        gap: 3,
        begin: (g) => ({ inst: g.rng.chance(0.85) ? BUILD_INSTANCE : 'i-0' + derivedId('', 'build' + g.day, 16).toLowerCase().replace(/[^0-9a-f]/g, 'a') }),
        unit: (g, t, s) => {
          const ui = roleUI(role, s.inst, t);
          const c: Call = { ui, ip: cat.ip('build.eip'), ua: UA.cliLinux, tls: true };
          const r = g.rng.float();
          const bucket = `acme-build-artifacts-${A3}`;
          if (r < 0.35) {
            const key = `artifacts/${g.rng.pick(['api', 'web', 'worker'])}/${g.rng.hex(40)}.tar.gz`;
            push(g, s3Object(g.rng, t, c, 'us-east-1', A3, g.rng.chance(0.5) ? 'PutObject' : 'GetObject', bucket, key, true, g.rng.range(1e6, 3e8)), t);
            push(g, (g.rng.chance(0.5) ? kmsGdk : kmsDecrypt)({ rng: g.rng, t, c: viaService(ui, 's3.amazonaws.com'), ec: { 'aws:s3:arn': `arn:aws:s3:::${bucket}/${key}` } }, art), t);
          } else if (r < 0.5) push(g, kmsDecrypt({ rng: g.rng, t, c, ec: { tool: g.rng.pick(['sonar', 'npm', 'docker']) } }, tools), t);
          else if (r < 0.7) push(g, genericCall(g.rng, t, c, 'ecr', 'GetAuthorizationToken', 'us-east-1', A3, {}, { resp: null }), t);
          else push(g, genericCall(g.rng, t, c, 'sts', 'GetCallerIdentity', 'us-east-1', A3, null), t);
        },
      }),
    );
  }
  {
    const role = cat.role(A3, 'OpsLambdaRole');
    const ops = cat.key(A3, 'us-west-2', 'ops');
    S.push(
      defineStream<null>({
        id: 'ops-cleanup',
        account: A3,
        region: 'us-west-2',
        bursts: 5,
        exp: 0.8,
        size: { median: 3, sigma: 0.6, max: 60 },
        profile: P_FLAT,
        gap: 2,
        begin: () => null,
        unit: (g, t) => {
          const c: Call = { ui: roleUI(role, 'cleanup-snapshots', t), ip: pubIpFor(g, `nat1/${A3}/us-west-2`), ua: UA.boto3Lambda, tls: true };
          const r = g.rng.float();
          if (r < 0.5) push(g, ec2Describe(g.rng, t, c, 'us-west-2', A3, 5), t);
          else if (r < 0.7) push(g, genericCall(g.rng, t, c, 'ec2', 'DeleteSnapshot', 'us-west-2', A3, { snapshotId: 'snap-0' + g.rng.hex(16) }, { readOnly: false }), t);
          else push(g, kmsDecrypt({ rng: g.rng, t, c, ec: { app: 'ops-cleanup' } }, ops), t);
        },
      }),
    );
  }
  // Daily security scan by an audit role in every account/region (session name varies by day)
  for (const acct of ORG_ACCOUNTS) {
    const role = cat.role(acct, 'SecurityAuditRole');
    for (const region of ACCOUNT_REGIONS[acct]!) {
      const keys = [...cat.keys.values()].filter((k) => k.account === acct && k.region === region && !['feature-flags', 'sqs-orders', 'byok-import'].includes(k.alias?.slice(6) ?? ''));
      S.push(
        defineStream<null>({
          id: `audit-${acct}-${region}`,
          account: acct,
          region,
          bursts: 1,
          exp: 0,
          cron: [6 * 60 + (region === 'us-east-1' ? 2 : region === 'us-west-2' ? 9 : 14)],
          size: { median: 12, sigma: 0.2, max: 40 },
          gap: 0.6,
          begin: () => null,
          unit: (g, t, _s, i) => {
            const c: Call = { ui: roleUI(role, `prowler-${ymd(t).replace(/-/g, '')}`, t), ip: cat.ip('prowler'), ua: UA.prowler, tls: true };
            if (i === 0) return push(g, kmsNoKey({ rng: g.rng, t, c }, region, acct, 'ListKeys', {}), t);
            if (i === 1) return push(g, kmsNoKey({ rng: g.rng, t, c }, region, acct, 'ListAliases', {}), t);
            const k = keys[i % keys.length]!;
            const r = g.rng.float();
            if (r < 0.15) push(g, kmsSimple({ rng: g.rng, t, c }, k, 'DescribeKey', k.arn), t);
            else if (r < 0.27) push(g, kmsCall({ rng: g.rng, t, c }, k, 'GetKeyPolicy', { keyId: k.arn, policyName: 'default' }), t);
            else if (r < 0.36) push(g, kmsSimple({ rng: g.rng, t, c }, k, 'GetKeyRotationStatus', k.arn), t);
            else if (r < 0.5 && region === 'us-east-1') push(g, iamRead(g.rng, t, c, acct, 'SecurityAuditRole'), t);
            else push(g, ec2Describe(g.rng, t, c, region, acct), t);
          },
        }),
      );
    }
  }
  return S;
}

const BUILD_INSTANCE = 'i-0a3f9c2e71b5d8046';
/** ReportingRole runs every 2 hours and decrypts 2 report inputs: ~24 Decrypts a day, every day. */
const REPORTING_PER_RUN = 2;

function pubIpFor(g: G, name: string): string {
  return g.cat.ip(name);
}

function historyFor(days: number): number {
  return days > 14 ? 14 : Math.max(1, Math.floor(days / 2));
}

/** Typical interactive KMS use by a human with the CLI. */
function humanKmsUnit(g: G, t: number, c: Call, keys: Key[], region: string, account: string): void {
  const k = g.rng.pick(keys);
  const deny = g.rng.chance(0.01);
  const x: KmsCtx = { rng: g.rng, t, c, deny, ec: { purpose: 'adhoc' } };
  const r = g.rng.float();
  if (r < 0.22) push(g, kmsDecrypt(x, k), t);
  else if (r < 0.32) push(g, kmsGdk(x, k, k.alias ?? k.arn), t);
  else if (r < 0.4) push(g, kmsEncrypt(x, k), t);
  else if (r < 0.52) push(g, kmsSimple({ rng: g.rng, t, c, deny }, k, 'DescribeKey', k.alias ?? k.id), t);
  else if (r < 0.58) push(g, kmsNoKey({ rng: g.rng, t, c }, region, account, 'ListAliases', {}), t);
  else if (r < 0.7) push(g, genericCall(g.rng, t, c, 'sts', 'GetCallerIdentity', region, account, null), t);
  else if (r < 0.85) push(g, genericCall(g.rng, t, c, 's3', 'ListBuckets', region, account, { Host: 's3.amazonaws.com' }, { host: 's3.amazonaws.com' }), t);
  else push(g, ec2Describe(g.rng, t, c, region, account), t);
}

// ---------------------------------------------------------------------------------------------
// Scheduled records: anomalies and fixed benign events
// ---------------------------------------------------------------------------------------------

interface Tracked<T> {
  entry: T;
  principal: string;
  identity: string | null;
  keys: string[];
  ip: string | null;
  names: string[];
  kmsOnly: boolean;
  error: string | null;
  day: string | null;
  byDay: Map<string, number>;
  first: string | null;
  last: string | null;
}

class Schedule {
  readonly items = new Map<string, Item[]>();
  constructor(readonly start: number) {}
  add(r: CtRecord, t: number, account: string): void {
    const w = Math.floor((t - this.start) / WIN);
    const k = `${account}/${r.awsRegion}/${w}`;
    let a = this.items.get(k);
    if (!a) this.items.set(k, (a = []));
    a.push({ t, r });
  }
  take(account: string, region: string, w: number): Item[] | undefined {
    const k = `${account}/${region}/${w}`;
    const a = this.items.get(k);
    if (a) this.items.delete(k);
    return a;
  }
}

interface ScheduleResult {
  anomalies: Tracked<InjectedAnomaly>[];
  benign: Tracked<BenignLookalike>[];
  disabled: Map<string, number>;
}

function scheduleEvents(cat: Catalog, sched: Schedule, start: number, days: number, withAnomalies: boolean, seed: number): ScheduleResult {
  const A1 = '111111111111';
  const A2 = '222222222222';
  const A3 = '333333333333';
  const hist = historyFor(days);
  const span = Math.max(1, days - hist);
  const anomalyDay = (offset: number) => Math.min(days - 1, hist + (offset % span));
  const anomalies: Tracked<InjectedAnomaly>[] = [];
  const benign: Tracked<BenignLookalike>[] = [];
  const disabled = new Map<string, number>();
  const at = (day: number, h: number, m: number, s = 0) => start + day * DAY + h * HOUR + m * MIN + s * SEC;

  const track = <T extends InjectedAnomaly | BenignLookalike>(
    list: Tracked<T>[],
    entry: T,
    o: { principal: string; identity: string | null; keys: string[]; ip: string | null; names: string[]; kmsOnly?: boolean; error?: string },
  ) => {
    list.push({ entry, principal: o.principal, identity: o.identity, keys: o.keys, ip: o.ip, names: o.names, kmsOnly: o.kmsOnly ?? true, error: o.error ?? null, day: entry.day, byDay: new Map(), first: null, last: null });
  };

  // ---------- fixed benign events (present with or without anomalies) ----------
  {
    const f = new Rng(seed, 3);
    const kmsRot = (day: number, k: Key, h: number) => {
      if (day >= days) return;
      const t = at(day, h, f.range(0, 59), f.range(0, 59));
      sched.add(kmsRotateKey(f, t, k), t, k.account);
    };
    const rotKeys: [number, Key][] = [
      [3, cat.key(A1, 'us-east-1', 'datalake-raw')],
      [9, cat.key(A2, 'us-east-1', 'reports')],
      [Math.min(days - 1, hist + 2), cat.key(A3, 'us-east-1', 'shared-tools')],
      [Math.min(days - 1, hist + 5), cat.key(A1, 'us-east-1', 'app-data')],
    ];
    for (const [d, k] of rotKeys) kmsRot(d, k, f.range(0, 23));
    for (const [, k] of rotKeys)
      track(benign, { kind: 'kms_rotate_key', identity_arn: null, principal_arn: '<internal>', key_arn: k.arn, source_ip: 'AWS Internal', account_id: k.account, region: k.region, day: null, event_names: ['RotateKey'], count: 0, note: 'AwsServiceEvent by KMS itself (userIdentity {accountId, invokedBy: "AWS Internal"}, no type).' }, { principal: '<internal>', identity: null, keys: [k.arn], ip: 'AWS Internal', names: ['RotateKey'] });

    // ci-deployer creates a key with terraform in the history (normal control plane)
    const ci = cat.user(A2, 'ci-deployer');
    const ciCall = (): Call => ({ ui: userUI(ci), ip: cat.ip('gh2'), ua: UA.terraform, tls: true });
    const ff = cat.key(A2, 'us-east-1', 'feature-flags');
    if (days > 2) {
      let t = at(2, 15, 12, 4);
      sched.add(kmsCall({ rng: f, t, c: ciCall() }, ff, 'CreateKey', { description: 'feature flag payloads', keyUsage: 'ENCRYPT_DECRYPT', keySpec: 'SYMMETRIC_DEFAULT', customerMasterKeySpec: 'SYMMETRIC_DEFAULT', origin: 'AWS_KMS', multiRegion: false, bypassPolicyLockoutSafetyCheck: false, policy: defaultPolicy(A2), tags: [{ tagKey: 'team', tagValue: 'platform' }] }, { readOnly: false, resp: keyMetadata(ff, t, 'AWS_KMS', true, 'Enabled', 'feature flag payloads') }), t, A2);
      t += 3 * SEC;
      sched.add(kmsCall({ rng: f, t, c: ciCall() }, ff, 'CreateAlias', { aliasName: 'alias/feature-flags', targetKeyId: ff.arn }, { readOnly: false, resources: [kmsRes(ff), { accountId: A2, type: 'AWS::KMS::Key', ARN: `arn:aws:kms:us-east-1:${A2}:alias/feature-flags` }] }), t, A2);
      t += 2 * SEC;
      sched.add(kmsCall({ rng: f, t, c: ciCall() }, ff, 'EnableKeyRotation', { keyId: ff.id }, { readOnly: false }), t, A2);
      t += 2 * SEC;
      sched.add(kmsCall({ rng: f, t, c: ciCall() }, ff, 'TagResource', { keyId: ff.arn, tags: [{ tagKey: 'cost-center', tagValue: 'cc-4411' }] }, { readOnly: false }), t, A2);
    }
    // benign CreateGrant to in-org roles and by RDS on behalf of a user
    const lee = cat.role(A1, 'AdministratorAccess');
    const leeCall = (t: number): Call => ({ ui: roleUI(lee, 'lee.chen@example.com', t), ip: cat.ip('lee.office'), ua: UA.cliMac, tls: true });
    const curated = cat.key(A1, 'us-east-1', 'datalake-curated');
    const grant = (t: number, c: Call, k: Key, grantee: string, ops: string[]) => {
      sched.add(kmsCall({ rng: f, t, c }, k, 'CreateGrant', { keyId: k.arn, granteePrincipal: grantee, operations: ops, constraints: undefined }, { readOnly: false, resp: { grantId: f.hex(64), keyId: k.arn } }), t, k.account);
    };
    const benignGrantDays = [Math.min(5, days - 1), Math.min(days - 1, hist + 4)];
    grant(at(benignGrantDays[0]!, 17, 21, 9), leeCall(at(benignGrantDays[0]!, 17, 21, 9)), curated, `arn:aws:iam::${A2}:role/ReportingRole`, ['Decrypt', 'DescribeKey']);
    track(benign, { kind: 'grant_in_org', identity_arn: leeCall(0).ui.arn!, principal_arn: lee.arn, key_arn: curated.arn, source_ip: null, account_id: A1, region: 'us-east-1', day: null, event_names: ['CreateGrant'], count: 0, note: `CreateGrant to in-org roles (arn:aws:iam::${A2}:role/ReportingRole, arn:aws:iam::${A1}:role/DataLakeAnalyticsRole).` }, { principal: lee.arn, identity: null, keys: [curated.arn], ip: null, names: ['CreateGrant'] });
    grant(at(benignGrantDays[1]!, 14, 2, 44), leeCall(at(benignGrantDays[1]!, 14, 2, 44)), curated, `arn:aws:iam::${A1}:role/DataLakeAnalyticsRole`, ['Decrypt', 'GenerateDataKey', 'DescribeKey']);
    {
      const rdsUser = cat.user(A2, 'ci-deployer');
      const secrets = cat.key(A2, 'us-east-1', 'secrets');
      const t = at(Math.min(7, days - 1), 16, 40, 10);
      const c = viaService(userUI(rdsUser), 'rds.amazonaws.com');
      sched.add(kmsCall({ rng: f, t, c }, secrets, 'CreateGrant', { keyId: secrets.arn, granteePrincipal: 'rds.us-east-1.amazonaws.com', retiringPrincipal: 'rds.us-east-1.amazonaws.com', operations: ['Decrypt', 'Encrypt', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext', 'ReEncryptFrom', 'ReEncryptTo', 'CreateGrant', 'RetireGrant', 'DescribeKey'], constraints: { encryptionContextSubset: { 'aws:rds:db-id': 'db-' + f.str(UPNUM, 26) } } }, { readOnly: false, resp: { grantId: f.hex(64), keyId: secrets.arn } }), t, A2);
    }
    // normal PutKeyPolicy (own account root + a role) in the history
    {
      const k = cat.key(A1, 'us-east-1', 'datalake-raw');
      const t = at(Math.min(6, days - 1), 18, 3, 30);
      sched.add(kmsCall({ rng: f, t, c: leeCall(t) }, k, 'PutKeyPolicy', { keyId: k.id, policyName: 'default', bypassPolicyLockoutSafetyCheck: false, policy: defaultPolicy(A1, [{ Sid: 'Allow ingest', Effect: 'Allow', Principal: { AWS: cat.role(A1, 'IngestLambdaRole').arn }, Action: ['kms:GenerateDataKey', 'kms:Encrypt'], Resource: '*' }]) }, { readOnly: false }), t, A1);
    }
    // carol.ops: her second (office) IP is already known in the history; she uses it daily afterwards.
    const carol = cat.user(A1, 'carol.ops');
    const carolKey = cat.key(A1, 'us-east-1', 'app-data');
    for (const d of [2, 9]) {
      if (d >= hist) continue;
      let t = at(d, 15, f.range(0, 50), f.range(0, 59));
      const c: Call = { ui: userUI(carol), ip: cat.ip('carol.office'), ua: UA.cliLinux, tls: true };
      sched.add(kmsSimple({ rng: f, t, c }, carolKey, 'DescribeKey', 'alias/app-data'), t, A1);
      t += 4 * SEC;
      sched.add(kmsDecrypt({ rng: f, t, c, ec: { purpose: 'adhoc' } }, carolKey), t, A1);
    }
    track(benign, { kind: 'known_second_ip', identity_arn: carol.arn, principal_arn: carol.arn, key_arn: null, source_ip: cat.ip('carol.office'), account_id: A1, region: 'us-east-1', day: null, event_names: [], count: 0, note: `carol.ops used ${cat.ip('carol.office')} in the history (days 2 and 9) and uses it every weekday after day ${hist}; not a new IP.` }, { principal: carol.arn, identity: carol.arn, keys: [], ip: cat.ip('carol.office'), names: [] });
    // EnableKeyRotation by a user after the history (look-alike of DisableKeyRotation)
    {
      const d = Math.min(days - 1, hist + 1);
      const t = at(d, 16, 5, 12);
      const c: Call = { ui: userUI(carol), ip: cat.ip('carol.office'), ua: UA.cliLinux, tls: true };
      sched.add(kmsCall({ rng: f, t, c }, carolKey, 'EnableKeyRotation', { keyId: carolKey.id, rotationPeriodInDays: 365 }, { readOnly: false }), t, A1);
      track(benign, { kind: 'enable_key_rotation', identity_arn: carol.arn, principal_arn: carol.arn, key_arn: carolKey.arn, source_ip: null, account_id: A1, region: 'us-east-1', day: ymd(t), event_names: ['EnableKeyRotation'], count: 0, note: 'EnableKeyRotation by an IAM user (benign).' }, { principal: carol.arn, identity: carol.arn, keys: [carolKey.arn], ip: null, names: ['EnableKeyRotation'] });
    }
    // The AWS-managed-key style policy: Principal "*" restricted by kms:CallerAccount + kms:ViaService
    {
      const k = cat.key(A2, 'us-east-1', 'sqs-orders');
      const d = Math.min(days - 1, hist + 2);
      const pol = JSON.stringify(
        {
          Version: '2012-10-17',
          Id: 'auto-sqs-orders',
          Statement: [
            { Sid: 'Allow access through SQS for all principals in the account that are authorized to use SQS', Effect: 'Allow', Principal: { AWS: '*' }, Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:CreateGrant', 'kms:DescribeKey'], Resource: '*', Condition: { StringEquals: { 'kms:CallerAccount': A2, 'kms:ViaService': 'sqs.us-east-1.amazonaws.com' } } },
            { Sid: 'Allow direct access to key metadata to the account', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A2}:root` }, Action: ['kms:Describe*', 'kms:Get*', 'kms:List*', 'kms:RevokeGrant', 'kms:PutKeyPolicy'], Resource: '*' },
          ],
        },
        null,
        2,
      );
      let t = at(d, 19, 30, 2);
      sched.add(kmsCall({ rng: f, t, c: ciCall() }, k, 'CreateKey', { description: 'orders queue SSE', keyUsage: 'ENCRYPT_DECRYPT', keySpec: 'SYMMETRIC_DEFAULT', customerMasterKeySpec: 'SYMMETRIC_DEFAULT', origin: 'AWS_KMS', multiRegion: false, bypassPolicyLockoutSafetyCheck: false, policy: pol }, { readOnly: false, resp: keyMetadata(k, t, 'AWS_KMS', true, 'Enabled', 'orders queue SSE') }), t, A2);
      t += 4 * SEC;
      sched.add(kmsCall({ rng: f, t, c: ciCall() }, k, 'CreateAlias', { aliasName: 'alias/sqs-orders', targetKeyId: k.arn }, { readOnly: false, resources: [kmsRes(k), { accountId: A2, type: 'AWS::KMS::Key', ARN: `arn:aws:kms:us-east-1:${A2}:alias/sqs-orders` }] }), t, A2);
      if (d + 1 < days) {
        t = at(d + 1, 14, 11, 40);
        sched.add(kmsCall({ rng: f, t, c: ciCall() }, k, 'PutKeyPolicy', { keyId: k.arn, policyName: 'default', bypassPolicyLockoutSafetyCheck: false, policy: pol }, { readOnly: false }), t, A2);
      }
      track(benign, { kind: 'policy_principal_star_with_conditions', identity_arn: ci.arn, principal_arn: ci.arn, key_arn: k.arn, source_ip: null, account_id: A2, region: 'us-east-1', day: null, event_names: ['CreateKey', 'PutKeyPolicy'], count: 0, note: 'Principal {"AWS":"*"} restricted by kms:CallerAccount = own account and kms:ViaService (AWS-managed key pattern).' }, { principal: ci.arn, identity: ci.arn, keys: [k.arn], ip: null, names: ['CreateKey', 'PutKeyPolicy'] });
    }
    // A few isolated AccessDenied errors from different callers (thin background noise, never a burst).
    {
      const analyst = cat.role(A1, 'DataAnalyst');
      const app = cat.role(A2, 'AppBackendRole');
      const deniers: [number, () => [Call, Key, string, string]][] = [
        [1, () => [{ ui: roleUI(analyst, 'raj.patel@example.com', 0), ip: cat.ip('analyst2'), ua: UA.internal, tls: true, console: true }, cat.key(A1, 'us-east-1', 'datalake-raw'), 'Decrypt', A1]],
        [4, () => [{ ui: userUI(ci), ip: cat.ip('gh3'), ua: UA.terraform, tls: true }, cat.key(A2, 'us-east-1', 'signing'), 'GetKeyPolicy', A2]],
        [8, () => [{ ui: roleUI(app, derivedId('', 'denied-task', 32).toLowerCase(), 0), ip: cat.ip(`nat2/${A2}/us-east-1`), ua: UA.javaEcs, tls: true }, cat.key(A2, 'us-east-1', 'reports'), 'Decrypt', A2]],
        [12, () => [{ ui: userUI(carol), ip: cat.ip('carol.home'), ua: UA.cliLinux, tls: true }, cat.key(A1, 'us-east-1', 'datalake-curated'), 'GenerateDataKey', A1]],
        [hist + 3, () => [{ ui: userUI(cat.user(A2, 'sam.rivera')), ip: cat.ip('sam.office'), ua: UA.cliMac, tls: true }, cat.key(A2, 'us-east-1', 'signing'), 'Sign', A2]],
      ];
      for (const [d, who] of deniers) {
        if (d >= days) continue;
        const t = at(d, f.range(13, 21), f.range(0, 59), f.range(0, 59));
        const [c0, k, name] = who();
        const ui = c0.ui.type === 'AssumedRole' ? { ...c0.ui, accessKeyId: derivedId('ASIA', `${c0.ui.arn}|${hourStart(t)}`) } : c0.ui;
        const c: Call = { ...c0, ui };
        const x: KmsCtx = { rng: f, t, c, deny: true };
        const req =
          name === 'Decrypt'
            ? { encryptionContext: { purpose: 'adhoc' }, encryptionAlgorithm: 'SYMMETRIC_DEFAULT' }
            : name === 'GenerateDataKey'
              ? { keyId: k.alias, keySpec: 'AES_256' }
              : name === 'Sign'
                ? { keyId: k.alias, signingAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256', messageType: 'DIGEST' }
                : { keyId: k.arn, policyName: 'default' };
        sched.add(kmsCall(x, k, name, req), t, k.account);
      }
    }
    const dl = cat.role(A1, 'DataLakeAnalyticsRole');
    track(benign, { kind: 'steady_service_volume', identity_arn: null, principal_arn: dl.arn, key_arn: curated.arn, source_ip: 's3.amazonaws.com', account_id: A1, region: 'us-east-1', day: null, event_names: ['Decrypt'], count: 0, note: 'S3 (invokedBy s3.amazonaws.com) decrypting for the data-lake role, hundreds per day, steady day to day.' }, { principal: dl.arn, identity: null, keys: [curated.arn], ip: 's3.amazonaws.com', names: ['Decrypt'] });
    const ct = cat.key(A3, 'us-east-1', 'org-cloudtrail-logs');
    track(benign, { kind: 'aws_service_principal', identity_arn: null, principal_arn: 'service:cloudtrail.amazonaws.com', key_arn: ct.arn, source_ip: 'cloudtrail.amazonaws.com', account_id: A3, region: 'us-east-1', day: null, event_names: ['GenerateDataKey'], count: 0, note: 'AWSService identity {"type":"AWSService","invokedBy":"cloudtrail.amazonaws.com"} encrypting log files.' }, { principal: 'service:cloudtrail.amazonaws.com', identity: null, keys: [ct.arn], ip: null, names: ['GenerateDataKey'] });
  }

  if (!withAnomalies) return { anomalies, benign, disabled };

  // ---------- anomalies ----------
  const a = new Rng(seed, 4);
  const mk = (
    kind: AnomalyKind,
    identity: string,
    principal: string,
    keys: string[],
    ip: string | null,
    account: string,
    region: string,
    day: number,
    names: string[],
    note: string,
    error?: string,
    matchIp = ip,
  ) =>
    track(anomalies, { kind, identity_arn: identity, principal_arn: principal, key_arn: keys[0] ?? '', key_arns: keys, source_ip: ip, account_id: account, region, day: ymd(start + day * DAY), event_names: names, count: 0, first_event_time: null, last_event_time: null, note }, { principal, identity, keys, ip: matchIp, names, error });

  // 1. volume_spike: ReportingRole/report-builder, alias/reports, ~30x its ~60/day baseline
  {
    const d = anomalyDay(2);
    const role = cat.role(A2, 'ReportingRole');
    const k = cat.key(A2, 'us-east-1', 'reports');
    const extra = 29 * 12 * REPORTING_PER_RUN;
    const t0 = at(d, 1, 12, 0);
    let t = t0;
    for (let i = 0; i < extra; i++) {
      t += Math.max(500, Math.round(a.exp((2.5 * HOUR) / extra)));
      const ui = roleUI(role, 'report-builder', t);
      const c: Call = { ui, ip: cat.ip(`nat2/${A2}/us-east-1`), ua: UA.nodeLambda, tls: true };
      sched.add(kmsDecrypt({ rng: a, t, c, ec: { report: a.pick(['daily-revenue', 'churn', 'inventory', 'kpi', 'customer-export']) } }, k), t, A2);
    }
    const ui = roleUI(role, 'report-builder', t0);
    mk('volume_spike', ui.arn!, role.arn, [k.arn], null, A2, 'us-east-1', d, ['Decrypt'], `Decrypt by ReportingRole/report-builder on alias/reports: ${extra} extra calls between ${iso(t0)} and ~${iso(t)} on top of a steady baseline of ~${12 * REPORTING_PER_RUN}/day (count = all that day).`, undefined, null);
  }
  // 2. new_source_ip: sam.rivera from a never-seen public IP
  {
    const d = anomalyDay(1);
    const u = cat.user(A2, 'sam.rivera');
    const keys = ['app-data', 'secrets', 'reports'].map((x) => cat.key(A2, 'us-east-1', x));
    const ip = cat.ip('sam.new');
    const c: Call = { ui: userUI(u), ip, ua: 'aws-cli/2.13.25 Python/3.11.6 Linux/5.15.0-86-generic exe/x86_64.ubuntu.22 prompt/off', tls: true };
    let t = at(d, 23 - 20, 47, 10); // 03:47 UTC: an odd hour for this user
    sched.add(genericCall(a, t, c, 'sts', 'GetCallerIdentity', 'us-east-1', A2, null), t, A2);
    t += 9 * SEC;
    sched.add(kmsNoKey({ rng: a, t, c }, 'us-east-1', A2, 'ListAliases', {}), t, A2);
    const names = new Set<string>(['ListAliases']);
    for (let i = 0; i < 9; i++) {
      t += a.range(5, 40) * SEC;
      const k = keys[i % 3]!;
      if (i % 3 === 2) {
        sched.add(kmsSimple({ rng: a, t, c }, k, 'DescribeKey', k.arn), t, A2);
        names.add('DescribeKey');
      } else {
        sched.add(kmsDecrypt({ rng: a, t, c, ec: { purpose: 'adhoc' } }, k), t, A2);
        names.add('Decrypt');
      }
    }
    mk('new_source_ip', u.arn, u.arn, keys.map((k) => k.arn), ip, A2, 'us-east-1', d, [...names], `IAM user sam.rivera always called from ${cat.ip('sam.office')} / ${cat.ip('sam.home')}; here KMS calls from ${ip} (count = KMS calls from that IP).`);
  }
  // 3. access_denied_burst: BuildAgentRole instance session, 27 AccessDenied within ~9 minutes on 3 keys
  {
    const d = anomalyDay(4);
    const role = cat.role(A3, 'BuildAgentRole');
    const keys = ['org-cloudtrail-logs', 'secrets-vault', 'shared-tools'].map((x) => cat.key(A3, 'us-east-1', x));
    let t = at(d, 22, 14, 3);
    const t0 = t;
    let tLast = t;
    const names = new Set<string>();
    for (let i = 0; i < 27; i++) {
      tLast = t;
      const k = keys[i % 3]!;
      const ui = roleUI(role, BUILD_INSTANCE, t);
      const c: Call = { ui, ip: cat.ip('build.eip'), ua: UA.cliLinux, tls: true };
      const name = a.pick(['Decrypt', 'Decrypt', 'GenerateDataKey', 'DescribeKey', 'GetKeyPolicy']);
      names.add(name);
      const x: KmsCtx = { rng: a, t, c, deny: true, ec: name === 'Decrypt' || name === 'GenerateDataKey' ? { tool: 'probe' } : undefined };
      if (name === 'Decrypt') sched.add(kmsDecrypt(x, k), t, A3);
      else if (name === 'GenerateDataKey') sched.add(kmsGdk(x, k, k.arn), t, A3);
      else if (name === 'GetKeyPolicy') sched.add(kmsCall(x, k, 'GetKeyPolicy', { keyId: k.arn, policyName: 'default' }), t, A3);
      else sched.add(kmsSimple(x, k, 'DescribeKey', k.arn), t, A3);
      t += a.range(8, 30) * SEC;
    }
    const ui = roleUI(role, BUILD_INSTANCE, t0);
    mk('access_denied_burst', ui.arn!, role.arn, keys.map((k) => k.arn), null, A3, 'us-east-1', d, [...names].sort(), `27 AccessDenied KMS errors from ${iso(t0)} to ${iso(tLast)} across 3 keys (Decrypt/GenerateDataKey/DescribeKey/GetKeyPolicy).`, 'AccessDenied');
  }
  // 4. cross_account_use: 999999999999 role decrypting with a key of 111111111111
  {
    const d = anomalyDay(3);
    const role = cat.role(UNTRUSTED_ACCOUNT, 'PartnerIntegrationRole');
    const k = cat.key(A1, 'us-east-1', 'datalake-curated');
    const ip = cat.ip('partner');
    let t = at(d, 2, 11, 30);
    let ui: UserIdentity = {};
    for (let i = 0; i < 14; i++) {
      ui = roleUI(role, 'partner-sync', t);
      const c: Call = { ui, ip, ua: UA.boto3, tls: true };
      sched.add(kmsDecrypt({ rng: a, t, c, recipient: A1, ec: { 'aws:s3:arn': `arn:aws:s3:::acme-datalake-curated-${A1}/customers/dt=${ymd(t - 2 * DAY)}/part-${String(i).padStart(5, '0')}.parquet` } }, k), t, A1);
      t += a.range(30, 200) * SEC;
    }
    mk('cross_account_use', ui.arn!, role.arn, [k.arn], ip, A1, 'us-east-1', d, ['Decrypt'], `A principal of untrusted account ${UNTRUSTED_ACCOUNT} uses a key of ${A1} (recorded in the key owner's trail, recipientAccountId ${A1}).`);
  }
  // 5. external_key_use: an org role encrypting with a key owned by 999999999999
  {
    const d = anomalyDay(5);
    const role = cat.role(A2, 'VendorExportRole');
    const k = cat.key(UNTRUSTED_ACCOUNT, 'us-east-1', 'partner-exchange');
    let t = at(d, 16, 20, 0);
    let ui: UserIdentity = {};
    const names = ['Encrypt', 'GenerateDataKey'];
    for (let i = 0; i < 10; i++) {
      ui = roleUI(role, 'export-job', t);
      const c: Call = { ui, ip: cat.ip(`nat1/${A2}/us-east-1`), ua: UA.boto3, tls: true };
      const x: KmsCtx = { rng: a, t, c, recipient: A2, region: 'us-east-1', ec: { feed: 'customers', batch: String(i) } };
      sched.add(i % 2 === 0 ? kmsEncrypt(x, k, k.arn) : kmsGdk(x, k, k.arn), t, A2);
      t += a.range(20, 90) * SEC;
    }
    mk('external_key_use', ui.arn!, role.arn, [k.arn], null, A2, 'us-east-1', d, names, `Org role uses a key owned by ${UNTRUSTED_ACCOUNT} (resources[] ARN in that account, recipientAccountId ${A2}).`);
  }
  // 6a. key_state on an imported (EXTERNAL origin) key: CreateKey EXTERNAL, import, delete imported material
  {
    const d = anomalyDay(0);
    const u = cat.user(A1, 'jordan.lee');
    const k = cat.key(A1, 'us-west-2', 'byok-import');
    const c: Call = { ui: userUI(u), ip: cat.ip('jordan.office'), ua: UA.cliWin, tls: true };
    let t = at(d, 14, 12, 40);
    sched.add(kmsCall({ rng: a, t, c }, k, 'CreateKey', { description: 'byok test', keyUsage: 'ENCRYPT_DECRYPT', keySpec: 'SYMMETRIC_DEFAULT', customerMasterKeySpec: 'SYMMETRIC_DEFAULT', origin: 'EXTERNAL', multiRegion: false, bypassPolicyLockoutSafetyCheck: false }, { readOnly: false, resp: keyMetadata(k, t, 'EXTERNAL', false, 'PendingImport', 'byok test') }), t, A1);
    t += 95 * SEC;
    sched.add(kmsCall({ rng: a, t, c }, k, 'GetParametersForImport', { keyId: k.id, wrappingAlgorithm: 'RSAES_OAEP_SHA_256', wrappingKeySpec: 'RSA_4096' }), t, A1);
    t += 4 * MIN + 12 * SEC;
    sched.add(kmsCall({ rng: a, t, c }, k, 'ImportKeyMaterial', { keyId: k.id, validTo: awsDate(t + 30 * DAY - (t % DAY)), expirationModel: 'KEY_MATERIAL_EXPIRES' }, { readOnly: false }), t, A1);
    t = at(d, 17, 41, 5);
    sched.add(kmsCall({ rng: a, t, c }, k, 'DeleteImportedKeyMaterial', { keyId: k.id }, { readOnly: false }), t, A1);
    mk('key_state', u.arn, u.arn, [k.arn], null, A1, 'us-west-2', d, ['CreateKey', 'ImportKeyMaterial', 'DeleteImportedKeyMaterial'], 'IAM user creates an EXTERNAL-origin key, imports key material that expires (KEY_MATERIAL_EXPIRES), then deletes the imported material.');
  }
  // 6b. key_state on an existing key: DisableKeyRotation, DisableKey, ScheduleKeyDeletion (7 days)
  {
    const d = anomalyDay(6);
    const u = cat.user(A1, 'jordan.lee');
    const k = cat.key(A1, 'us-west-2', 'legacy-archive');
    const c: Call = { ui: userUI(u), ip: cat.ip('jordan.office'), ua: UA.cliWin, tls: true };
    let t = at(d, 20, 3, 17);
    sched.add(kmsCall({ rng: a, t, c }, k, 'DisableKeyRotation', { keyId: k.arn }, { readOnly: false }), t, A1);
    t += 2 * MIN + 41 * SEC;
    sched.add(kmsCall({ rng: a, t, c }, k, 'DisableKey', { keyId: k.id }, { readOnly: false }), t, A1);
    disabled.set(k.arn, t);
    t += 3 * MIN + 5 * SEC;
    sched.add(kmsCall({ rng: a, t, c }, k, 'ScheduleKeyDeletion', { keyId: k.id, pendingWindowInDays: 7 }, { readOnly: false, resp: { keyId: k.arn, deletionDate: awsDate(t + 7 * DAY), keyState: 'PendingDeletion', pendingWindowInDays: 7 } }), t, A1);
    mk('key_state', u.arn, u.arn, [k.arn], null, A1, 'us-west-2', d, ['DisableKeyRotation', 'DisableKey', 'ScheduleKeyDeletion'], 'IAM user disables rotation, disables the key and schedules its deletion with a 7-day window.');
  }
  // 7a. key_policy_exposure: Principal {"AWS":"*"} with kms:* and no Condition
  {
    const d = anomalyDay(1);
    const role = cat.role(A3, 'AdministratorAccess');
    const k = cat.key(A3, 'us-east-1', 'shared-tools');
    const t = at(d, 18, 26, 51);
    const ui = roleUI(role, 'pat.kim@example.com', t, { mfa: true });
    const c: Call = { ui, ip: cat.ip('pat.office'), ua: UA.internal, tls: true, console: true };
    const pol = defaultPolicy(A3, [{ Sid: 'AllowEveryone', Effect: 'Allow', Principal: { AWS: '*' }, Action: 'kms:*', Resource: '*' }]);
    sched.add(kmsCall({ rng: a, t, c }, k, 'PutKeyPolicy', { keyId: k.id, policyName: 'default', bypassPolicyLockoutSafetyCheck: false, policy: pol }, { readOnly: false }), t, A3);
    mk('key_policy_exposure', ui.arn!, role.arn, [k.arn], null, A3, 'us-east-1', d, ['PutKeyPolicy'], 'PutKeyPolicy with a statement Principal {"AWS":"*"}, Action kms:*, no Condition (key open to everyone).');
  }
  // 7b. key_policy_exposure: policy names arn:aws:iam::999999999999:root
  {
    const d = anomalyDay(4);
    const u = cat.user(A2, 'ci-deployer');
    const k = cat.key(A2, 'eu-west-1', 'payments-eu');
    const t = at(d, 13, 7, 22);
    const c: Call = { ui: userUI(u), ip: cat.ip('gh1'), ua: UA.terraform, tls: true };
    const pol = defaultPolicy(A2, [{ Sid: 'Allow use of the key by partner', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${UNTRUSTED_ACCOUNT}:root` }, Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'], Resource: '*' }]);
    sched.add(kmsCall({ rng: a, t, c }, k, 'PutKeyPolicy', { keyId: k.arn, policyName: 'default', bypassPolicyLockoutSafetyCheck: false, policy: pol }, { readOnly: false }), t, A2);
    mk('key_policy_exposure', u.arn, u.arn, [k.arn], null, A2, 'eu-west-1', d, ['PutKeyPolicy'], `PutKeyPolicy granting use of the key to arn:aws:iam::${UNTRUSTED_ACCOUNT}:root (an account outside the org).`);
  }
  // 8. grant_exposure: CreateGrant to a role of 999999999999
  {
    const d = anomalyDay(5);
    const role = cat.role(A1, 'AdministratorAccess');
    const k = cat.key(A1, 'us-east-1', 'datalake-raw');
    const t = at(d, 21, 48, 9);
    const ui = roleUI(role, 'lee.chen@example.com', t);
    const c: Call = { ui, ip: cat.ip('lee.office'), ua: UA.cliMac, tls: true };
    sched.add(kmsCall({ rng: a, t, c }, k, 'CreateGrant', { keyId: k.arn, granteePrincipal: `arn:aws:iam::${UNTRUSTED_ACCOUNT}:role/x`, operations: ['Decrypt', 'DescribeKey', 'CreateGrant'] }, { readOnly: false, resp: { grantId: a.hex(64), keyId: k.arn } }), t, A1);
    mk('grant_exposure', ui.arn!, role.arn, [k.arn], null, A1, 'us-east-1', d, ['CreateGrant'], `CreateGrant with granteePrincipal arn:aws:iam::${UNTRUSTED_ACCOUNT}:role/x (outside the org).`);
  }
  // 9. root_use: root of 222222222222 in the console, DescribeKey + Decrypt
  {
    const d = anomalyDay(2);
    const ip = cat.ip('root.admin');
    let t = at(d, 15, 2, 33);
    const signin: Call = { ui: { type: 'Root', principalId: A2, arn: `arn:aws:iam::${A2}:root`, accountId: A2 }, ip, ua: UA.browser, tls: true };
    sched.add(rec(a, t, 'signin', 'ConsoleLogin', 'us-east-1', A2, signin, null, { eventType: 'AwsConsoleSignIn', readOnly: false, resp: { ConsoleLogin: 'Success' }, add: { LoginTo: 'https://console.aws.amazon.com/console/home?state=hashArgs%23&isauthcode=true', MobileVersion: 'No', MFAUsed: 'Yes' }, host: 'signin.aws.amazon.com' }), t, A2);
    const keys = ['reports', 'secrets'].map((x) => cat.key(A2, 'us-east-1', x));
    const names: string[] = [];
    for (let i = 0; i < 5; i++) {
      t += a.range(20, 120) * SEC;
      const c: Call = { ui: rootUI(A2, t), ip, ua: UA.internal, tls: true, console: true };
      const k = keys[i % 2]!;
      if (i < 2) {
        sched.add(kmsSimple({ rng: a, t, c }, k, 'DescribeKey', k.arn), t, A2);
        names.push('DescribeKey');
      } else {
        sched.add(kmsDecrypt({ rng: a, t, c, ec: { report: 'kpi' } }, k), t, A2);
        names.push('Decrypt');
      }
    }
    mk('root_use', `arn:aws:iam::${A2}:root`, `arn:aws:iam::${A2}:root`, keys.map((k) => k.arn), ip, A2, 'us-east-1', d, [...new Set(names)], 'Root user (console session) calling KMS.');
  }
  anomalies.sort((x, y) => (x.entry.day < y.entry.day ? -1 : x.entry.day > y.entry.day ? 1 : 0));
  return { anomalies, benign, disabled };
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

interface DigestEntry {
  path: string;
  hash: string;
  newest: string;
  oldest: string;
}

class Writer {
  objects = 0;
  records = 0;
  kmsRecords = 0;
  bytesGz = 0;
  private dirs = new Set<string>();
  readonly digestLog = new Map<string, DigestEntry[]>();
  private trackers = new Map<string, Tracked<InjectedAnomaly | BenignLookalike>[]>();

  constructor(
    readonly out: string,
    readonly dry: boolean,
    readonly prefixFor: (account: string) => string,
    readonly digestFrom: number,
    readonly digestUntil: number,
  ) {}

  setTrackers(list: Tracked<InjectedAnomaly | BenignLookalike>[]): void {
    for (const tr of list) {
      let a = this.trackers.get(tr.principal);
      if (!a) this.trackers.set(tr.principal, (a = []));
      a.push(tr);
    }
  }

  put(rel: string, body: Buffer): void {
    if (this.dry) return;
    const full = join(this.out, rel);
    const dir = full.slice(0, full.lastIndexOf('/'));
    if (!this.dirs.has(dir)) {
      mkdirSync(dir, { recursive: true });
      this.dirs.add(dir);
    }
    writeFileSync(full, body);
  }

  logPath(rng: Rng, account: string, region: string, delivery: number): string {
    const day = ymd(delivery).replace(/-/g, '/');
    return `${this.prefixFor(account)}/CloudTrail/${region}/${day}/${account}_CloudTrail_${region}_${compactStamp(delivery, false)}_${rng.str(ALNUM, 16)}.json.gz`;
  }

  writeLog(rng: Rng, account: string, region: string, delivery: number, items: Item[]): void {
    const records = items.map((i) => i.r);
    const json = JSON.stringify({ Records: records });
    const gz = gzipSync(json);
    const path = this.logPath(rng, account, region, delivery);
    this.put(path, gz);
    this.objects++;
    this.records += records.length;
    this.bytesGz += gz.length;
    if (this.dry) return;
    for (const r of records) {
      if (r.eventSource === 'kms.amazonaws.com') this.kmsRecords++;
      const trs = this.trackers.get(principalOf(r.userIdentity));
      if (trs) for (const tr of trs) this.match(tr, r);
    }
    if (delivery >= this.digestFrom && delivery < this.digestUntil) {
      const k = `${account}/${region}`;
      let a = this.digestLog.get(k);
      if (!a) this.digestLog.set(k, (a = []));
      let newest = records[0]!.eventTime;
      let oldest = newest;
      for (const r of records) {
        if (r.eventTime > newest) newest = r.eventTime;
        if (r.eventTime < oldest) oldest = r.eventTime;
      }
      a.push({ path, hash: createHash('sha256').update(json).digest('hex'), newest, oldest });
    }
  }

  private match(tr: Tracked<InjectedAnomaly | BenignLookalike>, r: CtRecord): void {
    if (tr.kmsOnly && r.eventSource !== 'kms.amazonaws.com') return;
    if (tr.identity !== null && r.userIdentity.arn !== tr.identity) return;
    if (tr.names.length && !tr.names.includes(r.eventName)) return;
    if (tr.ip !== null && r.sourceIPAddress !== tr.ip) return;
    if (tr.error !== null && r.errorCode !== tr.error) return;
    if (tr.keys.length) {
      // records that name KMS keys must name one of ours; key-less calls (ListAliases, ...) match
      const keyRes = (r.resources ?? []).filter((x) => x.ARN.startsWith('arn:aws:kms:') && x.ARN.includes(':key/'));
      if (keyRes.length && !keyRes.some((x) => tr.keys.includes(x.ARN))) return;
    }
    const day = r.eventTime.slice(0, 10);
    tr.byDay.set(day, (tr.byDay.get(day) ?? 0) + 1);
    if (tr.day === null || tr.day === day) {
      if (tr.first === null || r.eventTime < tr.first) tr.first = r.eventTime;
      if (tr.last === null || r.eventTime > tr.last) tr.last = r.eventTime;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Main loop
// ---------------------------------------------------------------------------------------------

function parseStart(s: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) throw new Error(`start must be YYYY-MM-DD, got ${JSON.stringify(s)}`);
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
}

interface RunParams {
  cat: Catalog;
  streams: StreamDef<unknown>[];
  start: number;
  dayFrom: number;
  dayTo: number;
  scale: number;
  rng: Rng;
  writer: Writer;
  sched: Schedule | null;
  disabled: Map<string, number>;
  /** Total days of the trail (for the history length). */
  days: number;
}

const OBJECT_CAP = 2000;

function runWindows(p: RunParams): void {
  const { cat, streams, start, scale, rng, writer } = p;
  const ars: { account: string; region: string; streams: Stream[] }[] = [];
  for (const account of ORG_ACCOUNTS)
    for (const region of ACCOUNT_REGIONS[account]!) {
      const list: Stream[] = [];
      for (const def of streams) {
        if (def.account !== account || def.region !== region) continue;
        const prof = def.profile ?? P_FLAT;
        let perDay = def.bursts * Math.pow(scale, def.exp);
        if (def.floor !== undefined) perDay = Math.max(def.floor, perDay);
        list.push({ def, perWindow: prof.map((w) => (perDay * w) / WINDOWS_PER_DAY) });
      }
      ars.push({ account, region, streams: list });
    }
  const g: G = { rng, cat, out: [], day: 0, dayStart: 0, start, disabled: p.disabled, scale, hist: historyFor(p.days) };
  for (let day = p.dayFrom; day < p.dayTo; day++) {
    const dayStart = start + day * DAY;
    const dow = new Date(dayStart).getUTCDay();
    const isWeekend = dow === 0 || dow === 6;
    g.day = day;
    g.dayStart = dayStart;
    for (let w = 0; w < WINDOWS_PER_DAY; w++) {
      const t0 = dayStart + w * WIN;
      const hour = Math.floor(w / 12);
      for (const ar of ars) {
        g.out = [];
        for (const s of ar.streams) {
          const d = s.def;
          if (d.active && !d.active(day, dow)) continue;
          let n: number;
          let fixedStart = -1;
          if (d.cron) {
            n = 0;
            for (const m of d.cron)
              if (m * MIN >= w * WIN && m * MIN < (w + 1) * WIN) {
                n = 1;
                fixedStart = t0 + (m * MIN - w * WIN);
              }
          } else {
            const lambda = s.perWindow[hour]! * (isWeekend ? (d.weekend ?? 1) : 1);
            n = rng.poisson(lambda);
          }
          for (let b = 0; b < n; b++) {
            let t = fixedStart >= 0 ? fixedStart + rng.int(30 * SEC) : t0 + rng.int(WIN);
            const median = Math.max(d.size.floor ?? 0, d.size.median * Math.pow(scale, d.size.exp ?? 0));
            const size = Math.max(1, Math.min(d.size.max, Math.round(rng.lognormal(median, d.size.sigma))));
            const state = d.begin(g, t);
            // keep a burst inside its delivery window (big bursts get denser, not longer)
            const gapMs = Math.min(d.gap * SEC, Math.max(50, (t0 + WIN - t) / (size + 1)));
            for (let i = 0; i < size; i++) {
              d.unit(g, t, state, i);
              t += Math.round(rng.exp(gapMs));
            }
          }
        }
        if (p.sched) {
          const extra = p.sched.take(ar.account, ar.region, day * WINDOWS_PER_DAY + w);
          if (extra) for (const it of extra) g.out.push(it);
        }
        if (g.out.length === 0) continue;
        const items = g.out;
        items.sort((x, y) => x.t - y.t);
        // Delivery: a few minutes after the end of the window (later for the last stragglers).
        const last = items[items.length - 1]!.t;
        const base = Math.max(t0 + WIN, last + MIN);
        const nObj = Math.ceil(items.length / OBJECT_CAP);
        const per = Math.ceil(items.length / nObj);
        for (let o = 0; o < nObj; o++) {
          const delivery = base + rng.range(20, 5 * 60) * SEC;
          writer.writeLog(rng, ar.account, ar.region, delivery, items.slice(o * per, (o + 1) * per));
        }
      }
    }
  }
}

/** Pick the volume multiplier so that the good log objects weigh about targetMb (gzip). */
function calibrate(cat: Catalog, streams: StreamDef<unknown>[], start: number, days: number, targetMb: number, seed: number): number {
  const dow = (d: number) => new Date(start + d * DAY).getUTCDay();
  let pilotDay = 0;
  for (let d = 0; d < Math.min(days, 7); d++)
    if (dow(d) >= 2 && dow(d) <= 4) {
      pilotDay = d;
      break;
    }
  const target = targetMb * 1024 * 1024;
  const measure = (scale: number): number => {
    const writer = new Writer('', true, () => '', 0, 0);
    runWindows({ cat, streams, start, dayFrom: pilotDay, dayTo: pilotDay + 1, scale, rng: new Rng(seed, 9), writer, sched: null, disabled: new Map(), days });
    return writer.bytesGz * days * 0.95; // weekends are a little lighter
  };
  const MIN_SCALE = 0.02;
  const MAX_SCALE = 5000;
  let s0 = 1;
  let b0 = measure(s0);
  let s1 = Math.min(MAX_SCALE, Math.max(MIN_SCALE, (s0 * target) / b0));
  if (Math.abs(s1 - s0) / s0 < 0.03) return s0;
  for (let iter = 0; iter < 3; iter++) {
    const b1 = measure(s1);
    if (Math.abs(b1 - target) / target < 0.04) return s1;
    const k = Math.log(b1 / b0) / Math.log(s1 / s0);
    const slope = Number.isFinite(k) && k > 0.2 ? k : 1;
    const s2 = Math.min(MAX_SCALE, Math.max(MIN_SCALE, s1 * Math.pow(target / b1, 1 / slope)));
    if (s2 === s1) return s1;
    s0 = s1;
    b0 = b1;
    s1 = s2;
  }
  return s1;
}

function writeBadObjects(cat: Catalog, writer: Writer, start: number, days: number, seed: number): BadObject[] {
  const rng = new Rng(seed, 5);
  const bad: BadObject[] = [];
  const spots: [BadObjectKind, string, string, number][] = [
    ['corrupt_gzip', '111111111111', 'us-east-1', 3],
    ['truncated_gzip', '222222222222', 'us-east-1', 5],
    ['not_json', '333333333333', 'us-east-1', 8],
    ['no_records', '111111111111', 'us-west-2', 11],
    ['bad_record', '222222222222', 'eu-west-1', 12],
  ];
  for (const [kind, account, region, d0] of spots) {
    const day = Math.min(days - 1, d0);
    const t0 = start + day * DAY + rng.range(1, 22) * HOUR + rng.range(0, 11) * WIN;
    const delivery = t0 + WIN + rng.range(30, 300) * SEC;
    const path = writer.logPath(rng, account, region, delivery);
    const role = cat.role(account, 'SecurityAuditRole');
    const keys = [...cat.keys.values()].filter((k) => k.account === account && k.region === region);
    const mkRecs = (n: number): CtRecord[] => {
      const out: CtRecord[] = [];
      for (let i = 0; i < n; i++) {
        const t = t0 + i * 7 * SEC;
        const c: Call = { ui: roleUI(role, 'bad-object-fixture', t), ip: cat.ip('prowler'), ua: UA.prowler, tls: true };
        const k = keys[i % keys.length]!;
        out.push(i % 4 === 3 ? ec2Describe(rng, t, c, region, account) : kmsSimple({ rng, t, c }, k, 'DescribeKey', k.arn));
      }
      return out;
    };
    let body: Buffer;
    const entry: BadObject = { path, kind };
    if (kind === 'corrupt_gzip' || kind === 'truncated_gzip') {
      const gz = gzipSync(JSON.stringify({ Records: mkRecs(40) }));
      if (kind === 'corrupt_gzip') {
        body = Buffer.from(gz);
        const mid = Math.floor(body.length / 2);
        for (let i = mid - 16; i < mid + 16; i++) body[i] = body[i]! ^ 0xa5;
        // also break the trailer so no decoder can accept it silently
        body[body.length - 6] = body[body.length - 6]! ^ 0xff;
      } else body = gz.subarray(0, Math.floor(gz.length / 2));
    } else if (kind === 'not_json') {
      body = gzipSync('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>\n');
    } else if (kind === 'no_records') {
      body = gzipSync(JSON.stringify({ foo: 1 }));
    } else {
      const recs = mkRecs(5);
      const broken = { ...recs[2]!, eventTime: 'not-a-time' };
      recs[2] = broken;
      body = gzipSync(JSON.stringify({ Records: recs }));
      entry.records = recs.length;
      entry.kmsRecords = recs.filter((r) => r.eventSource === 'kms.amazonaws.com').length - 1;
      entry.badRecords = 1;
    }
    writer.put(path, body);
    bad.push(entry);
  }
  return bad;
}

/** Hourly digests for `hours` hours from `from` (each covers the log objects delivered in its hour). */
function writeDigests(writer: Writer, from: number, hours: number, trailName: string, seed: number, org: boolean, orgId: string): number {
  const rng = new Rng(seed, 6);
  const fingerprint = rng.hex(32);
  let n = 0;
  for (const account of ORG_ACCOUNTS)
    for (const region of ACCOUNT_REGIONS[account]!) {
      const logs = writer.digestLog.get(`${account}/${region}`) ?? [];
      let prev: { path: string; hash: string; sig: string } | null = null;
      for (let h = 0; h < hours; h++) {
        const end = from + (h + 1) * HOUR + rng.range(60, 900) * SEC;
        const begin = h === 0 ? from : end - HOUR;
        const files = logs.filter((l) => {
          const m = /_(\d{8})T(\d{4})Z_/.exec(l.path)!;
          const ts = Date.UTC(+m[1]!.slice(0, 4), +m[1]!.slice(4, 6) - 1, +m[1]!.slice(6, 8), +m[2]!.slice(0, 2), +m[2]!.slice(2, 4));
          return ts >= begin - (begin % MIN) && ts < end - (end % MIN);
        });
        const dir = ymd(end).replace(/-/g, '/');
        const prefix = org ? `AWSLogs/${orgId}/${account}` : `AWSLogs/${account}`;
        const path = `${prefix}/CloudTrail-Digest/${region}/${dir}/${account}_CloudTrail-Digest_${region}_${trailName}_${region}_${compactStamp(end, true)}.json.gz`;
        const bucket = org ? 'org-cloudtrail-logs-333333333333' : `cloudtrail-logs-${account}`;
        const body: Record<string, unknown> = {
          awsAccountId: account,
          digestStartTime: iso(begin),
          digestEndTime: iso(end),
          digestS3Bucket: bucket,
          digestS3Object: path,
          digestPublicKeyFingerprint: fingerprint,
          digestSignatureAlgorithm: 'SHA256withRSA',
          newestEventTime: files.length ? files.map((f) => f.newest).sort().at(-1)! : null,
          oldestEventTime: files.length ? files.map((f) => f.oldest).sort()[0]! : null,
          previousDigestS3Bucket: prev ? bucket : null,
          previousDigestS3Object: prev ? prev.path : null,
          previousDigestHashValue: prev ? prev.hash : null,
          previousDigestHashAlgorithm: prev ? 'SHA-256' : null,
          previousDigestSignature: prev ? prev.sig : null,
          logFiles: files.map((f) => ({ s3Bucket: bucket, s3Object: f.path, hashValue: f.hash, hashAlgorithm: 'SHA-256', newestEventTime: f.newest, oldestEventTime: f.oldest })),
        };
        const json: string = JSON.stringify(body);
        writer.put(path, gzipSync(json));
        prev = { path, hash: createHash('sha256').update(json).digest('hex'), sig: rng.hex(512) };
        n++;
      }
    }
  return n;
}

/** Generate the trail under `opts.out` and return the summary (ground truth included). */
export function generateTrail(opts: TrailOptions): TrailSummary {
  const seed = opts.seed ?? DEFAULT_SEED;
  const days = opts.days ?? DEFAULT_DAYS;
  const startStr = opts.start ?? DEFAULT_START;
  const targetMb = opts.targetMb ?? DEFAULT_TARGET_MB;
  const org = opts.org === true;
  const withBad = opts.bad !== false;
  const withAnomalies = opts.anomalies !== false;
  if (!Number.isInteger(days) || days < 2) throw new Error('days must be an integer >= 2');
  if (!(targetMb > 0)) throw new Error('targetMb must be > 0');
  const start = parseStart(startStr);

  const cat = new Catalog(new Rng(seed, 1));
  const streams = buildStreams(cat);
  if (opts.scale !== undefined && !(opts.scale > 0)) throw new Error('scale must be > 0');
  const scale = opts.scale ?? calibrate(cat, streams, start, days, targetMb, seed);

  const sched = new Schedule(start);
  const { anomalies, benign, disabled } = scheduleEvents(cat, sched, start, days, withAnomalies, seed);
  const trailName = org ? 'org-trail' : 'management-events';
  const digestHours = 3;
  const digestFrom = start + 14 * HOUR;
  const prefixFor = (account: string) => (org ? `AWSLogs/${cat.orgId}/${account}` : `AWSLogs/${account}`);
  const writer = new Writer(opts.out, false, prefixFor, digestFrom, digestFrom + digestHours * HOUR + 20 * MIN);
  writer.setTrackers([...anomalies, ...benign] as Tracked<InjectedAnomaly | BenignLookalike>[]);

  runWindows({ cat, streams, start, dayFrom: 0, dayTo: days, scale, rng: new Rng(seed, 2), writer, sched, disabled, days });

  const digestObjects = writeDigests(writer, digestFrom, digestHours, trailName, seed, org, cat.orgId);
  const badObjects = withBad ? writeBadObjects(cat, writer, start, days, seed) : [];

  const finish = <T extends InjectedAnomaly | BenignLookalike>(tr: Tracked<T>): T => {
    const e = tr.entry;
    if (tr.day === null) e.count = [...tr.byDay.values()].reduce((x, y) => x + y, 0);
    else e.count = tr.byDay.get(tr.day) ?? 0;
    if ('first_event_time' in e) {
      const a = e as InjectedAnomaly;
      a.first_event_time = tr.first;
      a.last_event_time = tr.last;
      if (a.kind === 'volume_spike') {
        const hist: number[] = [];
        for (const [d, n] of tr.byDay) if (d < a.day) hist.push(n);
        const mean = hist.length ? hist.reduce((x, y) => x + y, 0) / hist.length : 0;
        a.note += ` Baseline before: mean ${mean.toFixed(1)}/day over ${hist.length} days (ratio ${(a.count / Math.max(1, mean)).toFixed(1)}x).`;
      }
    }
    return e;
  };

  const accountRegions: Record<string, string[]> = {};
  for (const a of ORG_ACCOUNTS) accountRegions[a] = [...ACCOUNT_REGIONS[a]!];
  return {
    seed,
    start: startStr,
    days,
    objects: writer.objects,
    badObjects,
    digestObjects,
    records: writer.records,
    kmsRecords: writer.kmsRecords,
    bytesGz: writer.bytesGz,
    accounts: [...ORG_ACCOUNTS],
    regions: [...new Set(Object.values(ACCOUNT_REGIONS).flat())].sort(),
    accountRegions,
    orgId: org ? cat.orgId : null,
    trailName,
    scale: Math.round(scale * 1e4) / 1e4,
    anomalies: anomalies.map(finish),
    benign: benign.map(finish),
  };
}
