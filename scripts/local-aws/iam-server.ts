// A local IAM for the live keys audit: GetAccountAuthorizationDetails as IAM serves it, so the real
// @aws-sdk/client-iam is tested against it (never stubbed). AWS Query protocol: a form-encoded POST
// (Action=GetAccountAuthorizationDetails&Version=2010-05-08, Filter.member.N, MaxItems, Marker),
// SigV4-signed for service `iam`; the answer is XML with IsTruncated / Marker paging over users,
// groups, roles and managed policies together, policy documents URL-encoded as IAM returns them,
// managed policies with every version (the default one flagged). Errors: <ErrorResponse> XML.
//
// Two ways to reach it: startIamServer (its own endpoint, long-term access keys only), or as the
// `iam` option of startKmsServer, which answers IAM requests on the KMS endpoint after its own
// signature check (so roles assumed there are IAM callers too), as `--endpoint-url` needs.

import { randomBytes, randomUUID } from 'node:crypto';
import { listenLocally } from './local-server.js';
import { signatureValid } from './sigv4.js';

type Document = Record<string, unknown>;

export interface EntitySpec {
  path?: string;
  /** Inline policies by name. */
  inline?: Record<string, Document>;
  /** Managed policy ARNs attached. */
  attached?: string[];
}

interface Entity extends Required<Omit<EntitySpec, 'path'>> {
  kind: 'user' | 'group' | 'role';
  account: string;
  name: string;
  path: string;
  id: string;
  groups: string[];
}

interface ManagedPolicy {
  account: string;
  arn: string;
  name: string;
  path: string;
  id: string;
  /** Oldest first; the last is the default version. */
  versions: Document[];
}

export interface IamCall {
  account: string;
  action: string;
  params: Record<string, string>;
}

export interface IamService {
  calls: IamCall[];
  addUser(account: string, name: string, spec?: EntitySpec & { groups?: string[] }): string;
  addGroup(account: string, name: string, spec?: EntitySpec): string;
  addRole(account: string, name: string, spec?: EntitySpec): string;
  /** A managed policy: account 'aws' makes an AWS managed one (arn:aws:iam::aws:policy/...). Earlier versions first, the default last. */
  addPolicy(account: string, name: string, ...versions: Document[]): string;
  /** Deletes a user, group or role by ARN. */
  remove(arn: string): void;
  /** Answers the account's GetAccountAuthorizationDetails with AccessDenied. */
  deny(account: string): void;
  /** The answer to one signed request of `account` (the form body as sent). */
  answer(account: string, form: URLSearchParams): { status: number; xml: string };
}

const NS = 'https://iam.amazonaws.com/doc/2010-05-08/';
const CREATED = '2024-01-15T10:00:00Z';
const xmlText = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
/** IAM's encoding of a policy document: RFC 3986 percent-encoding of the JSON text. */
const encoded = (doc: Document): string => encodeURIComponent(JSON.stringify(doc));
const uniqueId = (prefix: string): string => prefix + randomBytes(8).toString('hex').toUpperCase().slice(0, 17);
const members = (items: string[]): string => items.map((i) => `<member>${i}</member>`).join('');

export function createIamService(options: { maxPage?: number } = {}): IamService {
  const entities: Entity[] = [];
  const policies: ManagedPolicy[] = [];
  const denied = new Set<string>();
  const calls: IamCall[] = [];
  const maxPage = options.maxPage ?? 1000;

  const add = (kind: Entity['kind'], account: string, name: string, spec: EntitySpec & { groups?: string[] }, prefix: string): string => {
    const path = spec.path ?? '/';
    entities.push({ kind, account, name, path, id: uniqueId(prefix), inline: spec.inline ?? {}, attached: spec.attached ?? [], groups: spec.groups ?? [] });
    return `arn:aws:iam::${account}:${kind}${path}${name}`;
  };
  const arnOf = (e: Entity) => `arn:aws:iam::${e.account}:${e.kind}${e.path}${e.name}`;

  const inlineXml = (list: string, e: Entity) => `<${list}>${members(Object.entries(e.inline).map(([n, d]) => `<PolicyName>${xmlText(n)}</PolicyName><PolicyDocument>${encoded(d)}</PolicyDocument>`))}</${list}>`;
  const attachedXml = (e: Entity) => `<AttachedManagedPolicies>${members(e.attached.map((arn) => `<PolicyName>${xmlText(arn.split('/').pop()!)}</PolicyName><PolicyArn>${arn}</PolicyArn>`))}</AttachedManagedPolicies>`;
  const common = (e: Entity, nameTag: string, idTag: string) => `<Path>${e.path}</Path><${nameTag}>${xmlText(e.name)}</${nameTag}><${idTag}>${e.id}</${idTag}><Arn>${arnOf(e)}</Arn><CreateDate>${CREATED}</CreateDate>`;
  const trust = encoded({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] });

  const itemXml: Record<string, (x: Entity | ManagedPolicy) => string> = {
    User: (x) => { const e = x as Entity; return `${common(e, 'UserName', 'UserId')}${inlineXml('UserPolicyList', e)}<GroupList>${members(e.groups.map(xmlText))}</GroupList>${attachedXml(e)}`; },
    Group: (x) => { const e = x as Entity; return `${common(e, 'GroupName', 'GroupId')}${inlineXml('GroupPolicyList', e)}${attachedXml(e)}`; },
    Role: (x) => { const e = x as Entity; return `${common(e, 'RoleName', 'RoleId')}<AssumeRolePolicyDocument>${trust}</AssumeRolePolicyDocument><InstanceProfileList/>${inlineXml('RolePolicyList', e)}${attachedXml(e)}<RoleLastUsed/>`; },
    Policy: (x) => {
      const p = x as ManagedPolicy;
      const attachments = entities.filter((e) => e.attached.includes(p.arn)).length;
      const versions = p.versions.map((d, i) => `<Document>${encoded(d)}</Document><VersionId>v${i + 1}</VersionId><IsDefaultVersion>${i === p.versions.length - 1}</IsDefaultVersion><CreateDate>${CREATED}</CreateDate>`);
      return `<PolicyName>${xmlText(p.name)}</PolicyName><PolicyId>${p.id}</PolicyId><Arn>${p.arn}</Arn><Path>${p.path}</Path><DefaultVersionId>v${p.versions.length}</DefaultVersionId><AttachmentCount>${attachments}</AttachmentCount><PermissionsBoundaryUsageCount>0</PermissionsBoundaryUsageCount><IsAttachable>true</IsAttachable><CreateDate>${CREATED}</CreateDate><UpdateDate>${CREATED}</UpdateDate><PolicyVersionList>${members(versions)}</PolicyVersionList>`;
    },
  };

  const error = (status: number, code: string, message: string) => ({
    status, xml: `<ErrorResponse xmlns="${NS}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${xmlText(message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
  });

  function answer(account: string, form: URLSearchParams): { status: number; xml: string } {
    const action = form.get('Action') ?? '';
    calls.push({ account, action, params: Object.fromEntries(form) });
    if (form.get('Version') !== '2010-05-08') return error(400, 'InvalidAction', `Could not find operation ${action} for version ${form.get('Version') ?? 'NO_VERSION_SPECIFIED'}`);
    if (action !== 'GetAccountAuthorizationDetails') return error(400, 'InvalidAction', `Could not find operation ${action} for version 2010-05-08`);
    if (denied.has(account)) return error(403, 'AccessDenied', `User: arn:aws:iam::${account}:user/auditor is not authorized to perform: iam:GetAccountAuthorizationDetails on resource: *`);
    const filters = [...form.entries()].filter(([k]) => /^Filter\.member\.\d+$/.test(k)).map(([, v]) => v);
    const wanted = (f: string) => filters.length === 0 || filters.includes(f);
    const maxItems = form.has('MaxItems') ? Number(form.get('MaxItems')) : 100;
    if (!Number.isInteger(maxItems) || maxItems < 1 || maxItems > 1000) return error(400, 'ValidationError', `1 validation error detected: Value '${form.get('MaxItems')}' at 'maxItems' failed to satisfy constraint: Member must have value less than or equal to 1000`);
    const mine = entities.filter((e) => e.account === account);
    const attachedHere = new Set(mine.flatMap((e) => e.attached));
    // Customer managed policies of the account, and the AWS managed ones attached in it.
    const managed = policies.filter((p) => (p.account === account && wanted('LocalManagedPolicy')) || (p.account === 'aws' && attachedHere.has(p.arn) && wanted('AWSManagedPolicy')));
    const items: Array<{ list: string; x: Entity | ManagedPolicy }> = [
      ...mine.filter((e) => e.kind === 'user' && wanted('User')).map((x) => ({ list: 'User', x })),
      ...mine.filter((e) => e.kind === 'group' && wanted('Group')).map((x) => ({ list: 'Group', x })),
      ...mine.filter((e) => e.kind === 'role' && wanted('Role')).map((x) => ({ list: 'Role', x })),
      ...managed.map((x) => ({ list: 'Policy', x })),
    ];
    let from = 0;
    const marker = form.get('Marker');
    if (marker !== null) {
      const m = /^mk-(\d+)-[0-9a-f]+$/.exec(Buffer.from(marker, 'base64').toString());
      if (!m) return error(400, 'ValidationError', 'Invalid Marker.');
      from = Number(m[1]);
    }
    const size = Math.min(maxItems, maxPage);
    const page = items.slice(from, from + size);
    const truncated = from + size < items.length;
    const list = (kind: string, tag: string) => `<${tag}>${members(page.filter((p) => p.list === kind).map((p) => itemXml[kind](p.x)))}</${tag}>`;
    const next = truncated ? `<Marker>${Buffer.from(`mk-${from + size}-${randomBytes(4).toString('hex')}`).toString('base64')}</Marker>` : '';
    return {
      status: 200,
      xml: `<GetAccountAuthorizationDetailsResponse xmlns="${NS}"><GetAccountAuthorizationDetailsResult><IsTruncated>${truncated}</IsTruncated>${next}`
        + `${list('User', 'UserDetailList')}${list('Group', 'GroupDetailList')}${list('Role', 'RoleDetailList')}${list('Policy', 'Policies')}`
        + `</GetAccountAuthorizationDetailsResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></GetAccountAuthorizationDetailsResponse>`,
    };
  }

  return {
    calls,
    addUser: (account, name, spec = {}) => add('user', account, name, spec, 'AIDA'),
    addGroup: (account, name, spec = {}) => add('group', account, name, spec, 'AGPA'),
    addRole: (account, name, spec = {}) => add('role', account, name, spec, 'AROA'),
    addPolicy(account, name, ...versions) {
      const arn = account === 'aws' ? `arn:aws:iam::aws:policy/${name}` : `arn:aws:iam::${account}:policy/${name}`;
      policies.push({ account, arn, name, path: '/', id: uniqueId('ANPA'), versions });
      return arn;
    },
    remove(arn) {
      const i = entities.findIndex((e) => arnOf(e) === arn);
      if (i < 0) throw new Error(`no IAM entity ${arn}`);
      entities.splice(i, 1);
    },
    deny: (account) => void denied.add(account),
    answer,
  };
}

/** IAM on an endpoint of its own: requests signed by one of `accessKeys` are `callerAccount`'s. */
export async function startIamServer(options: { callerAccount: string; accessKeys: Record<string, string>; maxPage?: number }): Promise<IamService & { endpoint: string; stop: () => Promise<void> }> {
  const service = createIamService(options);
  const server = await listenLocally((req, res, body) => {
    const scope = /Credential=([^/]+)\/\d{8}\/[^/]+\/iam\/aws4_request/.exec(String(req.headers.authorization ?? ''));
    const secret = scope ? options.accessKeys[scope[1]] : undefined;
    let out: { status: number; xml: string };
    if (req.method !== 'POST' || !String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
      out = { status: 400, xml: `<ErrorResponse xmlns="${NS}"><Error><Type>Sender</Type><Code>MalformedQueryString</Code><Message>expected a form-encoded POST</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>` };
    } else if (secret === undefined || !signatureValid(req, body, secret)) {
      out = { status: 403, xml: `<ErrorResponse xmlns="${NS}"><Error><Type>Sender</Type><Code>${secret === undefined ? 'InvalidClientTokenId' : 'SignatureDoesNotMatch'}</Code><Message>The request signature we calculated does not match the signature you provided.</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>` };
    } else {
      out = service.answer(options.callerAccount, new URLSearchParams(body.toString()));
    }
    res.writeHead(out.status, { 'Content-Type': 'text/xml', 'x-amzn-RequestId': randomUUID() });
    res.end(out.xml);
  });
  return { ...service, endpoint: server.endpoint, stop: server.stop };
}
