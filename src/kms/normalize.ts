// Turns one parsed CloudTrail record of a KMS event into a kms_events row.
// Real records are messy (see test/fixtures/README.md): fields go missing, change type, or
// name the key by alias; this is the one place that knows how to read them.

export const KMS_EVENT_SOURCE = 'kms.amazonaws.com';

/** A kms_events row, with JSON columns already serialised. Keys match the table's columns. */
export interface KmsEventRow {
  event_id: string;
  record_hash: string;
  event_time: string; // 'YYYY-MM-DD HH:MM:SS.ffffff', UTC
  event_name: string;
  event_type: string | null;
  event_version: string | null;
  read_only: boolean | null;
  aws_region: string | null;
  account_id: string | null;
  principal_type: string | null;
  principal_arn: string | null;
  principal_id: string | null;
  identity_arn: string | null;
  principal_account: string | null;
  user_name: string | null;
  access_key_id: string | null;
  invoked_by: string | null;
  source_ip: string | null;
  user_agent: string | null;
  key_arn: string | null;
  key_id: string | null;
  key_account: string | null;
  error_code: string | null;
  error_message: string | null;
  request_id: string | null;
  vpc_endpoint_id: string | null;
  encryption_context: unknown;
  request_parameters: unknown;
  response_elements: unknown;
  additional_event_data: unknown;
  resources: unknown;
  source_object: string;
}

/** A record that is a KMS event but cannot become a row. */
export class RecordError extends Error {}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null =>
  typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : null;
const obj = (v: unknown): Obj => (isObj(v) ? v : {});
const jsonOrNull = (v: unknown): unknown => (v === undefined ? null : v);

export function isKmsRecord(record: unknown): boolean {
  return isObj(record) && record.eventSource === KMS_EVENT_SOURCE;
}

export function normalizeKmsRecord(record: unknown, recordHash: string, sourceObject: string): KmsEventRow {
  if (!isObj(record)) throw new RecordError('not a JSON object');
  const eventName = str(record.eventName);
  if (!eventName) throw new RecordError('eventName is missing');
  const eventTime = parseEventTime(record.eventTime);
  if (eventTime === null) {
    throw new RecordError(`eventTime ${JSON.stringify(record.eventTime ?? null)} is not a timestamp`);
  }
  const identity = obj(record.userIdentity);
  const params = record.requestParameters;
  const key = resolveKey(record, identity);
  const eventId = str(record.eventID);

  return {
    event_id: eventId ?? `keytrail:${recordHash}`,
    record_hash: recordHash,
    event_time: eventTime,
    event_name: eventName,
    event_type: str(record.eventType),
    event_version: str(record.eventVersion),
    read_only: parseBoolean(record.readOnly),
    aws_region: str(record.awsRegion),
    account_id: str(record.recipientAccountId),
    principal_type: str(identity.type),
    principal_arn: str(identity.arn),
    principal_id: str(identity.principalId),
    identity_arn: identityArn(identity),
    principal_account: str(identity.accountId),
    user_name: str(identity.userName) ?? str(obj(obj(identity.sessionContext).sessionIssuer).userName),
    access_key_id: str(identity.accessKeyId),
    invoked_by: str(identity.invokedBy),
    source_ip: str(record.sourceIPAddress),
    user_agent: str(record.userAgent),
    key_arn: key.arn,
    key_id: key.id,
    key_account: key.account,
    error_code: str(record.errorCode),
    error_message: str(record.errorMessage),
    request_id: str(record.requestID),
    vpc_endpoint_id: str(record.vpcEndpointId),
    encryption_context: isObj(params) ? jsonOrNull(params.encryptionContext) : null,
    request_parameters: jsonOrNull(params),
    response_elements: jsonOrNull(record.responseElements),
    additional_event_data: jsonOrNull(record.additionalEventData),
    resources: jsonOrNull(record.resources),
    source_object: sourceObject,
  };
}

const TIME_RE = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?\s*(Z|[+-]\d{2}:?\d{2})?$/;

/**
 * CloudTrail writes '2024-05-01T12:34:56Z'; exports and fixtures also carry
 * '2024-05-01 12:34:56.123456' (no zone: UTC) or an offset. Returns the UTC time as DuckDB reads it.
 */
export function parseEventTime(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const m = TIME_RE.exec(value.trim());
  if (!m) return null;
  const [, y, mo, d, h, mi, s, frac = '', zone = 'Z'] = m;
  const micros = Number((frac + '000000').slice(0, 6));
  let ms = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s);
  if (Number.isNaN(ms) || +mo < 1 || +mo > 12 || +d < 1 || +d > 31 || +h > 23 || +mi > 59 || +s > 60) return null;
  if (zone !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    ms -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
  }
  const iso = new Date(ms).toISOString(); // 2024-05-01T12:34:56.000Z
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${String(micros).padStart(6, '0')}`;
}

function parseBoolean(value: unknown): boolean | null {
  if (typeof value === 'boolean') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  return null;
}

const ASSUMED_ROLE_RE = /^arn:([\w-]+):sts::(\d{12}):assumed-role\/([^/]+)\//;

/** The caller as a stable name: the role behind a session, the user, root, or the calling service. */
function identityArn(identity: Obj): string | null {
  const type = str(identity.type);
  const arn = str(identity.arn);
  if (type === 'AssumedRole') {
    const issuer = str(obj(obj(identity.sessionContext).sessionIssuer).arn);
    if (issuer) return issuer;
    const m = arn ? ASSUMED_ROLE_RE.exec(arn) : null;
    if (m) return `arn:${m[1]}:iam::${m[2]}:role/${m[3]}`;
  }
  if (type === 'AWSService') return str(identity.invokedBy) ?? arn;
  return arn ?? str(identity.invokedBy) ?? str(identity.principalId) ?? str(identity.accountId);
}

const KEY_ARN_RE = /^arn:([\w-]+):kms:([\w-]+):(\d{12}):key\/(.+)$/;
const BARE_KEY_ID_RE = /^(mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[\w-]+)$/i;

interface KeyRef { arn: string | null; id: string | null; account: string | null }

/**
 * The key an event is about. resources[] names it for most events (Decrypt has no keyId at
 * all; Encrypt gives an alias); else requestParameters.keyId when it is an ARN, or a bare key id,
 * which KMS resolves in the caller's account and region.
 */
function resolveKey(record: Obj, identity: Obj): KeyRef {
  const resources = Array.isArray(record.resources) ? record.resources : [];
  for (const resource of resources) {
    const arn = str(obj(resource).ARN);
    const m = arn ? KEY_ARN_RE.exec(arn) : null;
    if (m) return { arn, id: m[4], account: m[3] };
  }
  const params = obj(record.requestParameters);
  for (const field of ['keyId', 'targetKeyId', 'sourceKeyId', 'destinationKeyId']) {
    const keyId = str(params[field]);
    if (!keyId) continue;
    const m = KEY_ARN_RE.exec(keyId);
    if (m) return { arn: keyId, id: m[4], account: m[3] };
    if (keyId.startsWith('alias/') || keyId.startsWith('arn:') || !BARE_KEY_ID_RE.test(keyId)) continue;
    const account = str(identity.accountId) ?? str(record.recipientAccountId);
    const region = str(record.awsRegion);
    const arn = account && region ? `arn:${partitionOf(region)}:kms:${region}:${account}:key/${keyId}` : null;
    return { arn, id: keyId, account };
  }
  const created = str(obj(obj(record.responseElements).keyMetadata).arn);
  const m = created ? KEY_ARN_RE.exec(created) : null;
  if (m) return { arn: created, id: m[4], account: m[3] };
  return { arn: null, id: null, account: null };
}

function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  if (region.startsWith('us-iso-')) return 'aws-iso';
  if (region.startsWith('us-isob-')) return 'aws-iso-b';
  return 'aws';
}
