// A local AWS for the live keys audit: one HTTP endpoint that speaks the real wire protocols of the
// services `keytrail keys audit` calls, so the real AWS SDK clients are tested against it (never
// stubbed). The service is told apart the way AWS tells it apart: by the SigV4 credential scope
// (Credential=AKID/DATE/REGION/SERVICE/aws4_request) of the Authorization header.
//
//   kms            AWS JSON 1.1 (POST /, X-Amz-Target: TrentService.<Operation>): ListKeys, ListAliases,
//                  DescribeKey, GetKeyPolicy, GetKeyRotationStatus, ListGrants, ListResourceTags; paging
//                  with Limit / Marker / NextMarker / Truncated; errors HTTP 400 {"__type", "message"}.
//   sts            query protocol (form body, XML answers): AssumeRole, GetCallerIdentity.
//   account        REST-JSON: POST /listRegions.
//   access-analyzer REST-JSON: GET /analyzer, POST /finding (ListFindings).
//   iam            query protocol, answered by the `iam` option (iam-server.ts).
//
// The inventory is per account and region. The account of a request is the account its access key
// belongs to: the server's `callerAccount` for any long-term key, the role's account for the
// temporary credentials AssumeRole issued (the session token must come with them).
// Every request must carry a valid SigV4 signature (AWS4-HMAC-SHA256) by a known access key.
// Faults: throttle(op, n) answers the next n calls of an operation with ThrottlingException;
// fail(op, key, type) answers one key's calls of an operation with an error (AccessDenied, a key
// deleted during the run, a disconnected custom key store ...).

import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listenLocally } from './local-server.js';
import { signatureValid } from './sigv4.js';

export interface GrantSpec {
  grantId?: string;
  name?: string;
  granteePrincipal: string;
  retiringPrincipal?: string;
  operations: string[];
  constraints?: Record<string, unknown>;
  issuingAccount?: string;
}

export interface KeySpec {
  keyId?: string;
  description?: string;
  keyState?: 'Enabled' | 'Disabled' | 'PendingDeletion' | 'PendingImport' | 'Unavailable';
  keyManager?: 'CUSTOMER' | 'AWS';
  keySpec?: string;
  keyUsage?: 'ENCRYPT_DECRYPT' | 'SIGN_VERIFY' | 'GENERATE_VERIFY_MAC' | 'KEY_AGREEMENT';
  origin?: 'AWS_KMS' | 'EXTERNAL' | 'AWS_CLOUDHSM' | 'EXTERNAL_KEY_STORE';
  /** ISO times. */
  creationDate?: string;
  deletionDate?: string;
  /** Imported material that expires (ExpirationModel KEY_MATERIAL_EXPIRES). */
  validTo?: string;
  customKeyStoreId?: string;
  multiRegion?: boolean;
  /** A multi-Region replica: its primary key's ARN (MultiRegionConfiguration). */
  primaryKeyArn?: string;
  /** The key policy (a document or its JSON text); default: KMS's default key policy. */
  policy?: unknown;
  rotation?: { enabled: boolean; periodDays?: number };
  grants?: GrantSpec[];
  tags?: Record<string, string>;
  aliases?: string[];
}

interface Key {
  account: string;
  region: string;
  id: string;
  arn: string;
  spec: KeySpec;
  policy: string;
  rotation: { enabled: boolean; periodDays: number };
  grants: Array<Required<Pick<GrantSpec, 'grantId' | 'name' | 'granteePrincipal' | 'operations'>> & GrantSpec & { created: number }>;
}

interface AnalyzerFinding {
  id: string;
  resource: string;
  principal: Record<string, string>;
  isPublic: boolean;
  action: string[];
  condition: Record<string, string>;
  status: 'ACTIVE' | 'ARCHIVED' | 'RESOLVED';
  resourceType: string;
}

export interface KmsServerOptions {
  /** The account of any long-term access key (the credential chain's identity). */
  callerAccount: string;
  /** Regions ListRegions answers per account (default: none listed; see denyListRegions). */
  enabledRegions?: Record<string, string[]>;
  /** Roles AssumeRole may assume (role ARNs); others are denied. */
  roles?: string[];
  /** Long-term access keys and their secrets: requests signed with others, or wrongly, are refused. */
  accessKeys: Record<string, string>;
  /** Serve only these services (e.g. ['kms'], as a KMS-only compatible endpoint); others get 404. */
  only?: string[];
  /** The largest page any list operation returns, whatever Limit asks (to exercise paging). */
  maxPage?: number;
  /** Answers IAM's query requests once their signature is checked (createIamService). */
  iam?: { answer(account: string, form: URLSearchParams): { status: number; xml: string } };
}

export interface ServerCall {
  service: string;
  /** The access key the request was signed with. */
  accessKey: string;
  op: string;
  account: string;
  region: string;
  body: Record<string, unknown>;
}

export interface KmsServer {
  endpoint: string;
  calls: ServerCall[];
  /** Adds a key to an account's region; returns its ARN. */
  addKey(account: string, region: string, spec?: KeySpec): string;
  /** Changes a key between two audits: the fields given replace the key's (grants: the whole list). */
  update(keyArn: string, patch: Partial<KeySpec>): void;
  /** Deletes a key (and its aliases), as KMS does when the waiting period ends. */
  remove(keyArn: string): void;
  /** Predefined aliases without a target, as every account has them (alias/aws/...). */
  addAlias(account: string, region: string, aliasName: string, targetKeyArn?: string): void;
  throttle(op: string, times: number): void;
  /** Keeps the next call of an operation waiting: `arrived` resolves when it comes, release() answers it. */
  hold(op: string): { arrived: Promise<void>; release: () => void };
  /** Answers an operation with an error for a whole account and region (ListKeys denied ...). */
  failScope(op: string, account: string, region: string, type: string, message?: string): void;
  fail(op: string, keyArn: string, type: string, message?: string): void;
  denyListRegions(account: string): void;
  addAnalyzer(account: string, region: string, name: string): string;
  addAnalyzerFinding(account: string, region: string, finding: Partial<AnalyzerFinding> & { resource: string; principal: Record<string, string> }): void;
  stop(): Promise<void>;
}

class ServiceError extends Error {
  constructor(readonly type: string, message: string, readonly status = 400) {
    super(message);
  }
}

const defaultPolicy = (account: string): string => JSON.stringify({
  Version: '2012-10-17',
  Id: 'key-default-1',
  Statement: [{ Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: 'kms:*', Resource: '*' }],
}, null, 2);

const seconds = (iso: string | undefined, fallback: number): number => (iso ? Date.parse(iso) / 1000 : fallback);

export async function startKmsServer(options: KmsServerOptions): Promise<KmsServer> {
  const keys: Key[] = [];
  const aliases: Array<{ account: string; region: string; name: string; target: string | null }> = [];
  const sessions = new Map<string, { account: string; token: string; secret: string }>(); // access key -> issued credentials
  const calls: ServerCall[] = [];
  const throttles = new Map<string, number>();
  const holds = new Map<string, { arrive: () => void; released: Promise<void> }>();
  const failures: Array<{ op: string; arn: string; type: string; message: string }> = [];
  const scopeFailures: Array<{ op: string; scope: string; type: string; message: string }> = [];
  const noListRegions = new Set<string>();
  const analyzers: Array<{ account: string; region: string; name: string; arn: string }> = [];
  const analyzerFindings: Array<AnalyzerFinding & { account: string; region: string }> = [];
  const maxPage = options.maxPage ?? 1000;
  const started = Math.floor(Date.now() / 1000);

  function findKey(account: string, region: string, keyId: unknown): Key {
    if (typeof keyId !== 'string' || keyId === '') throw new ServiceError('ValidationException', '1 validation error detected: Value null at \'keyId\' failed to satisfy constraint: Member must not be null');
    let id = keyId;
    if (keyId.startsWith('alias/')) {
      const a = aliases.find((x) => x.account === account && x.region === region && x.name === keyId && x.target);
      if (!a) throw new ServiceError('NotFoundException', `Alias arn:aws:kms:${region}:${account}:${keyId} is not found.`);
      id = a.target!.split('/').pop()!;
    } else if (keyId.startsWith('arn:')) {
      const [, , , r, acc, res] = keyId.split(':');
      if (r !== region || acc !== account) throw new ServiceError('NotFoundException', `Key '${keyId}' does not exist`);
      id = res.replace(/^key\//, '');
    }
    const key = keys.find((k) => k.account === account && k.region === region && k.id === id);
    if (!key) throw new ServiceError('NotFoundException', `Key 'arn:aws:kms:${region}:${account}:key/${id}' does not exist`);
    return key;
  }

  function injected(op: string, key: Key): void {
    const f = failures.find((x) => x.op === op && x.arn === key.arn);
    if (f) throw new ServiceError(f.type, f.message);
  }

  /** One page of `items` from Marker, at most Limit (and the server's maxPage). */
  function page<T>(items: T[], body: Record<string, unknown>, max: number): { page: T[]; next: Record<string, unknown> } {
    const limit = body.Limit === undefined ? Math.min(100, max) : Number(body.Limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > max) {
      throw new ServiceError('ValidationException', `1 validation error detected: Value '${String(body.Limit)}' at 'limit' failed to satisfy constraint: Member must have value less than or equal to ${max}`);
    }
    let from = 0;
    if (body.Marker !== undefined) {
      const m = /^m-(\d+)$/.exec(String(body.Marker));
      if (!m) throw new ServiceError('InvalidMarkerException', 'The marker that specifies where pagination should next begin is not valid.');
      from = Number(m[1]);
    }
    const size = Math.min(limit, maxPage);
    const slice = items.slice(from, from + size);
    const more = from + size < items.length;
    return { page: slice, next: more ? { NextMarker: `m-${from + size}`, Truncated: true } : { Truncated: false } };
  }

  function metadata(k: Key): Record<string, unknown> {
    const s = k.spec;
    const keySpec = s.keySpec ?? 'SYMMETRIC_DEFAULT';
    const usage = s.keyUsage ?? (keySpec.startsWith('HMAC') ? 'GENERATE_VERIFY_MAC' : keySpec === 'SYMMETRIC_DEFAULT' ? 'ENCRYPT_DECRYPT' : 'SIGN_VERIFY');
    const state = s.keyState ?? 'Enabled';
    return {
      AWSAccountId: k.account,
      KeyId: k.id,
      Arn: k.arn,
      CreationDate: seconds(s.creationDate, started - 86_400 * 400),
      Enabled: state === 'Enabled',
      Description: s.description ?? '',
      KeyUsage: usage,
      KeyState: state,
      ...(s.deletionDate ? { DeletionDate: seconds(s.deletionDate, 0), PendingDeletionWindowInDays: 30 } : {}),
      ...(s.validTo ? { ValidTo: seconds(s.validTo, 0) } : {}),
      Origin: s.origin ?? 'AWS_KMS',
      ...(s.origin === 'EXTERNAL' ? { ExpirationModel: s.validTo ? 'KEY_MATERIAL_EXPIRES' : 'KEY_MATERIAL_DOES_NOT_EXPIRE' } : {}),
      ...(s.customKeyStoreId ? { CustomKeyStoreId: s.customKeyStoreId } : {}),
      KeyManager: s.keyManager ?? 'CUSTOMER',
      CustomerMasterKeySpec: keySpec,
      KeySpec: keySpec,
      ...(usage === 'ENCRYPT_DECRYPT' ? { EncryptionAlgorithms: keySpec === 'SYMMETRIC_DEFAULT' ? ['SYMMETRIC_DEFAULT'] : ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'] } : {}),
      ...(usage === 'SIGN_VERIFY' ? { SigningAlgorithms: ['RSASSA_PSS_SHA_256', 'ECDSA_SHA_256'] } : {}),
      ...(usage === 'GENERATE_VERIFY_MAC' ? { MacAlgorithms: ['HMAC_SHA_256'] } : {}),
      MultiRegion: s.multiRegion ?? s.primaryKeyArn !== undefined,
      ...(s.primaryKeyArn ? { MultiRegionConfiguration: { MultiRegionKeyType: 'REPLICA', PrimaryKey: { Arn: s.primaryKeyArn, Region: s.primaryKeyArn.split(':')[3] }, ReplicaKeys: [] } } : {}),
    };
  }

  const grantsOf = (list: GrantSpec[]): Key['grants'] => list.map((g, i) => ({
    ...g, grantId: g.grantId ?? randomBytes(32).toString('hex'), name: g.name ?? '', created: started - 86_400 * (10 + i),
  }));

  const rotationUnsupported = (k: Key): boolean => {
    const m = metadata(k);
    return m.KeySpec !== 'SYMMETRIC_DEFAULT' || m.Origin !== 'AWS_KMS';
  };

  const kms: Record<string, (account: string, region: string, body: Record<string, unknown>) => Record<string, unknown>> = {
    ListKeys: (account, region, body) => {
      const mine = keys.filter((k) => k.account === account && k.region === region);
      const { page: p, next } = page(mine, body, 1000);
      return { Keys: p.map((k) => ({ KeyId: k.id, KeyArn: k.arn })), ...next };
    },
    ListAliases: (account, region, body) => {
      let mine = aliases.filter((a) => a.account === account && a.region === region);
      if (body.KeyId !== undefined) {
        const key = findKey(account, region, body.KeyId);
        mine = mine.filter((a) => a.target === key.arn);
      }
      const { page: p, next } = page(mine, body, 100);
      return {
        Aliases: p.map((a) => ({
          AliasName: a.name, AliasArn: `arn:aws:kms:${region}:${account}:${a.name}`,
          ...(a.target ? { TargetKeyId: a.target.split('/').pop(), CreationDate: started - 86_400, LastUpdatedDate: started - 86_400 } : {}),
        })),
        ...next,
      };
    },
    DescribeKey: (account, region, body) => {
      const key = findKey(account, region, body.KeyId);
      injected('DescribeKey', key);
      return { KeyMetadata: metadata(key) };
    },
    GetKeyPolicy: (account, region, body) => {
      const key = findKey(account, region, body.KeyId);
      injected('GetKeyPolicy', key);
      const name = body.PolicyName ?? 'default';
      if (name !== 'default') throw new ServiceError('NotFoundException', `No such policy exists: ${String(name)}`);
      return { Policy: key.policy, PolicyName: 'default' };
    },
    GetKeyRotationStatus: (account, region, body) => {
      const key = findKey(account, region, body.KeyId);
      injected('GetKeyRotationStatus', key);
      if (rotationUnsupported(key)) throw new ServiceError('UnsupportedOperationException', `${key.arn} origin is ${String(metadata(key).Origin)} which is not valid for this operation.`);
      const state = key.spec.keyState ?? 'Enabled';
      const on = key.rotation.enabled && state !== 'PendingDeletion';
      return {
        KeyRotationEnabled: on, KeyId: key.arn,
        ...(on ? { RotationPeriodInDays: key.rotation.periodDays, NextRotationDate: started + 86_400 * 30 } : {}),
      };
    },
    ListGrants: (account, region, body) => {
      const key = findKey(account, region, body.KeyId);
      injected('ListGrants', key);
      const { page: p, next } = page(key.grants, body, 100);
      return {
        Grants: p.map((g) => ({
          KeyId: key.arn, GrantId: g.grantId, Name: g.name, CreationDate: g.created, GranteePrincipal: g.granteePrincipal,
          ...(g.retiringPrincipal ? { RetiringPrincipal: g.retiringPrincipal } : {}),
          IssuingAccount: g.issuingAccount ?? `arn:aws:iam::${account}:root`, Operations: g.operations,
          ...(g.constraints ? { Constraints: g.constraints } : {}),
        })),
        ...next,
      };
    },
    ListResourceTags: (account, region, body) => {
      const key = findKey(account, region, body.KeyId);
      injected('ListResourceTags', key);
      const tags = Object.entries(key.spec.tags ?? {}).map(([TagKey, TagValue]) => ({ TagKey, TagValue }));
      const { page: p, next } = page(tags, body, 50);
      return { Tags: p, ...next };
    },
  };

  function sts(account: string, form: URLSearchParams, accessKey: string): string {
    const action = form.get('Action');
    const id = randomUUID();
    if (action === 'GetCallerIdentity') {
      const session = sessions.get(accessKey);
      const arn = session ? `arn:aws:sts::${account}:assumed-role/audit/session` : `arn:aws:iam::${account}:user/auditor`;
      return `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>${arn}</Arn><UserId>AIDAEXAMPLE</UserId><Account>${account}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>${id}</RequestId></ResponseMetadata></GetCallerIdentityResponse>`;
    }
    if (action === 'AssumeRole') {
      const roleArn = form.get('RoleArn') ?? '';
      const sessionName = form.get('RoleSessionName') ?? '';
      if (!/^arn:aws:iam::\d{12}:role\/.+/.test(roleArn) || sessionName === '') throw new ServiceError('ValidationError', 'RoleArn and RoleSessionName are required');
      if (!(options.roles ?? []).includes(roleArn)) {
        throw new ServiceError('AccessDenied', `User: arn:aws:iam::${account}:user/auditor is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`, 403);
      }
      const roleAccount = roleArn.split(':')[4];
      const key = `ASIA${randomBytes(8).toString('hex').toUpperCase()}`;
      const token = randomBytes(24).toString('base64');
      const secret = randomBytes(20).toString('hex');
      sessions.set(key, { account: roleAccount, token, secret });
      const role = roleArn.split('/').pop();
      const expires = new Date(Date.now() + 3600_000).toISOString();
      return `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><AssumedRoleUser><AssumedRoleId>AROAEXAMPLE:${sessionName}</AssumedRoleId><Arn>arn:aws:sts::${roleAccount}:assumed-role/${role}/${sessionName}</Arn></AssumedRoleUser><Credentials><AccessKeyId>${key}</AccessKeyId><SecretAccessKey>${secret}</SecretAccessKey><SessionToken>${token}</SessionToken><Expiration>${expires}</Expiration></Credentials></AssumeRoleResult><ResponseMetadata><RequestId>${id}</RequestId></ResponseMetadata></AssumeRoleResponse>`;
    }
    throw new ServiceError('InvalidAction', `Could not find operation ${String(action)} for version 2011-06-15`);
  }

  async function handle(req: IncomingMessage, res: ServerResponse, raw: Buffer): Promise<void> {
    const text = raw.toString();
    const scope = /Credential=([^/]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(String(req.headers.authorization ?? ''));
    const service = scope?.[3] ?? '';
    const json = (status: number, payload: unknown, headers: Record<string, string> = {}, type = 'application/x-amz-json-1.1') => {
      res.writeHead(status, { 'Content-Type': type, 'x-amzn-RequestId': randomUUID(), ...headers });
      res.end(JSON.stringify(payload));
    };
    const fail = (err: ServiceError) => {
      if (service === 'sts') {
        res.writeHead(err.status, { 'Content-Type': 'text/xml' });
        res.end(`<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${err.type}</Code><Message>${err.message}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`);
      } else if (service === 'kms' || service === '') {
        json(err.status, { __type: err.type, message: err.message });
      } else {
        json(err.status, { message: err.message }, { 'x-amzn-ErrorType': err.type }, 'application/json');
      }
    };
    if (scope && options.only && !options.only.includes(service)) {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('Not Found');
      return;
    }
    try {
      if (!scope) throw new ServiceError('MissingAuthenticationTokenException', 'Missing Authentication Token', 403);
      const [, accessKey, region] = scope;
      const session = sessions.get(accessKey);
      if (session && req.headers['x-amz-security-token'] !== session.token) {
        throw new ServiceError(service === 'sts' ? 'InvalidClientTokenId' : 'UnrecognizedClientException', 'The security token included in the request is invalid.', 403);
      }
      const secret = session?.secret ?? options.accessKeys[accessKey];
      if (secret === undefined) {
        throw new ServiceError(service === 'sts' ? 'InvalidClientTokenId' : 'UnrecognizedClientException', 'The security token included in the request is invalid.', service === 'kms' ? 400 : 403);
      }
      if (!signatureValid(req, raw, secret)) {
        throw new ServiceError(service === 'sts' ? 'SignatureDoesNotMatch' : 'InvalidSignatureException', 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.', service === 'kms' ? 400 : 403);
      }
      const account = session?.account ?? options.callerAccount;

      if (service === 'kms') {
        const target = String(req.headers['x-amz-target'] ?? '');
        if (req.method !== 'POST' || !target.startsWith('TrentService.')) throw new ServiceError('UnknownOperationException', `unknown operation ${target}`);
        if (!String(req.headers['content-type'] ?? '').startsWith('application/x-amz-json-1.1')) throw new ServiceError('SerializationException', 'expected application/x-amz-json-1.1');
        const op = target.slice('TrentService.'.length);
        const body = JSON.parse(text || '{}') as Record<string, unknown>;
        calls.push({ service, accessKey, op, account, region, body });
        const held = holds.get(op);
        if (held) {
          holds.delete(op);
          held.arrive();
          await held.released;
        }
        const left = throttles.get(op) ?? 0;
        if (left > 0) {
          throttles.set(op, left - 1);
          throw new ServiceError('ThrottlingException', 'Rate exceeded');
        }
        const scoped = scopeFailures.find((f) => f.op === op && f.scope === `${account}:${region}`);
        if (scoped) throw new ServiceError(scoped.type, scoped.message);
        const handler = kms[op];
        if (!handler) throw new ServiceError('UnknownOperationException', `${op} is not served here`);
        json(200, handler(account, region, body));
        return;
      }
      if (service === 'iam' && options.iam) {
        const out = options.iam.answer(account, new URLSearchParams(text));
        res.writeHead(out.status, { 'Content-Type': 'text/xml' });
        res.end(out.xml);
        return;
      }
      if (service === 'sts') {
        const form = new URLSearchParams(text);
        calls.push({ service, accessKey, op: form.get('Action') ?? '', account, region, body: Object.fromEntries(form) });
        const answer = sts(account, form, accessKey);
        res.writeHead(200, { 'Content-Type': 'text/xml' });
        res.end(answer);
        return;
      }
      const url = new URL(req.url ?? '/', 'http://localhost');
      const body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
      if (service === 'account' && req.method === 'POST' && url.pathname === '/listRegions') {
        calls.push({ service, accessKey, op: 'ListRegions', account, region, body });
        if (noListRegions.has(account)) {
          throw new ServiceError('AccessDeniedException', `User: arn:aws:iam::${account}:user/auditor is not authorized to perform: account:ListRegions`, 403);
        }
        const wanted = Array.isArray(body.RegionOptStatusContains) ? body.RegionOptStatusContains.map(String) : null;
        const regions = (options.enabledRegions?.[account] ?? []).map((r) => ({ RegionName: r, RegionOptStatus: 'ENABLED_BY_DEFAULT' }));
        json(200, { Regions: regions.filter((r) => !wanted || wanted.includes(r.RegionOptStatus)) }, {}, 'application/json');
        return;
      }
      if (service === 'access-analyzer' && req.method === 'GET' && url.pathname === '/analyzer') {
        calls.push({ service, accessKey, op: 'ListAnalyzers', account, region, body: Object.fromEntries(url.searchParams) });
        const mine = analyzers.filter((a) => a.account === account && a.region === region);
        json(200, { analyzers: mine.map((a) => ({ arn: a.arn, name: a.name, type: 'ACCOUNT', createdAt: new Date(started * 1000).toISOString(), status: 'ACTIVE' })) }, {}, 'application/json');
        return;
      }
      if (service === 'access-analyzer' && req.method === 'POST' && url.pathname === '/finding') {
        calls.push({ service, accessKey, op: 'ListFindings', account, region, body });
        const analyzer = analyzers.find((a) => a.arn === body.analyzerArn && a.account === account && a.region === region);
        if (!analyzer) throw new ServiceError('ResourceNotFoundException', `Analyzer ${String(body.analyzerArn)} not found`, 404);
        const filter = (body.filter ?? {}) as Record<string, { eq?: string[] }>;
        const found = analyzerFindings.filter((f) => f.account === account && f.region === region)
          .filter((f) => Object.entries(filter).every(([field, c]) => !c.eq || c.eq.includes(String((f as unknown as Record<string, unknown>)[field]))));
        const now = new Date(started * 1000).toISOString();
        json(200, {
          findings: found.map((f) => ({
            id: f.id, principal: f.principal, action: f.action, resource: f.resource, isPublic: f.isPublic, resourceType: f.resourceType,
            condition: f.condition, createdAt: now, analyzedAt: now, updatedAt: now, status: f.status, resourceOwnerAccount: account,
          })),
        }, {}, 'application/json');
        return;
      }
      throw new ServiceError('UnknownOperationException', `${req.method} ${req.url} (${service}) is not served here`, 404);
    } catch (err) {
      fail(err instanceof ServiceError ? err : new ServiceError('InternalFailure', (err as Error).message, 500));
    }
  }

  const server = await listenLocally(handle);

  return {
    endpoint: server.endpoint,
    calls,
    addKey(account, region, spec = {}) {
      const id = spec.keyId ?? randomUUID();
      const arn = `arn:aws:kms:${region}:${account}:key/${id}`;
      const policy = spec.policy === undefined ? defaultPolicy(account) : typeof spec.policy === 'string' ? spec.policy : JSON.stringify(spec.policy, null, 2);
      const grants = grantsOf(spec.grants ?? []);
      const managedOn = (spec.keyManager ?? 'CUSTOMER') === 'AWS';
      keys.push({ account, region, id, arn, spec, policy, rotation: { enabled: spec.rotation?.enabled ?? managedOn, periodDays: spec.rotation?.periodDays ?? 365 }, grants });
      for (const name of spec.aliases ?? []) aliases.push({ account, region, name, target: arn });
      return arn;
    },
    update(arn, patch) {
      const key = keys.find((k) => k.arn === arn);
      if (!key) throw new Error(`no key ${arn}`);
      key.spec = { ...key.spec, ...patch };
      if (patch.policy !== undefined) key.policy = typeof patch.policy === 'string' ? patch.policy : JSON.stringify(patch.policy, null, 2);
      if (patch.rotation) key.rotation = { enabled: patch.rotation.enabled, periodDays: patch.rotation.periodDays ?? key.rotation.periodDays };
      if (patch.grants) key.grants = grantsOf(patch.grants);
      if (patch.aliases) {
        for (let i = aliases.length - 1; i >= 0; i--) if (aliases[i].target === arn) aliases.splice(i, 1);
        for (const name of patch.aliases) aliases.push({ account: key.account, region: key.region, name, target: arn });
      }
    },
    remove(arn) {
      const i = keys.findIndex((k) => k.arn === arn);
      if (i >= 0) keys.splice(i, 1);
      for (let j = aliases.length - 1; j >= 0; j--) if (aliases[j].target === arn) aliases.splice(j, 1);
    },
    addAlias(account, region, name, target) {
      aliases.push({ account, region, name, target: target ?? null });
    },
    throttle(op, times) {
      throttles.set(op, (throttles.get(op) ?? 0) + times);
    },
    hold(op) {
      let arrive!: () => void;
      let release!: () => void;
      const arrived = new Promise<void>((resolve) => (arrive = resolve));
      holds.set(op, { arrive, released: new Promise<void>((resolve) => (release = resolve)) });
      return { arrived, release };
    },
    failScope(op, account, region, type, message) {
      scopeFailures.push({ op, scope: `${account}:${region}`, type, message: message ?? `User: arn:aws:iam::${account}:user/auditor is not authorized to perform: kms:${op} on resource: *` });
    },
    fail(op, arn, type, message) {
      const defaults: Record<string, string> = {
        AccessDeniedException: `User: arn:aws:sts::${arn.split(':')[4]}:assumed-role/audit/session is not authorized to perform: kms:${op} on resource: ${arn} because no resource-based policy allows the kms:${op} action`,
        NotFoundException: `Key '${arn}' does not exist`,
        KMSInvalidStateException: `${arn} is pending deletion.`,
        CustomKeyStoreInvalidStateException: 'The custom key store is not connected.',
      };
      failures.push({ op, arn, type, message: message ?? defaults[type] ?? `${type} (test)` });
    },
    denyListRegions(account) {
      noListRegions.add(account);
    },
    addAnalyzer(account, region, name) {
      const arn = `arn:aws:access-analyzer:${region}:${account}:analyzer/${name}`;
      analyzers.push({ account, region, name, arn });
      return arn;
    },
    addAnalyzerFinding(account, region, f) {
      analyzerFindings.push({
        id: f.id ?? randomUUID(), resource: f.resource, principal: f.principal, isPublic: f.isPublic ?? false,
        action: f.action ?? ['kms:Decrypt'], condition: f.condition ?? {}, status: f.status ?? 'ACTIVE',
        resourceType: f.resourceType ?? 'AWS::KMS::Key', account, region,
      });
    },
    stop: server.stop,
  };
}
