// Reads one account's IAM through GetAccountAuthorizationDetails, every page (IsTruncated / Marker):
// users (with their groups), groups, roles, their inline policies, their attached managed policies
// and those policies' default versions. IAM returns policy documents URL-encoded: they are decoded
// here, so what is stored is the JSON text. A refusal is recorded, not thrown: the audit goes on.

import { GetAccountAuthorizationDetailsCommand, type IAMClient, type ManagedPolicyDetail, type PolicyDetail, type AttachedPolicy } from '@aws-sdk/client-iam';
import { callError, type CallError } from './client.js';
import type { IamPolicy, IamPrincipal } from '../kms/access.js';

export interface IamEntity {
  arn: string;
  type: 'user' | 'group' | 'role';
  name: string;
  /** IAM's unique id (AIDA…, AGPA…, AROA…): what a key policy or grant keeps of a deleted one. */
  uniqueId: string;
  /** A user's groups (names); empty for groups and roles. */
  groups: string[];
  /** Inline policies and attached managed policies (default version), documents decoded. */
  policies: Array<{ kind: 'inline' | 'customer_managed' | 'aws_managed'; name: string; arn: string | null; document: string | null }>;
}

export interface IamRead {
  account: string;
  status: 'ok' | 'failed';
  error: CallError | null;
  entities: IamEntity[];
}

/** IAM's URL-encoded policy document -> JSON text (left alone when it is already JSON). */
export function decodeDocument(doc: string | undefined): string | null {
  if (doc === undefined || doc === '') return null;
  if (doc.trimStart().startsWith('{')) return doc;
  try {
    return decodeURIComponent(doc);
  } catch {
    return doc;
  }
}

export async function readIam(iam: IAMClient, account: string): Promise<IamRead> {
  const users = [];
  const groups = [];
  const roles = [];
  const managed = new Map<string, ManagedPolicyDetail>();
  try {
    let Marker: string | undefined;
    do {
      const r = await iam.send(new GetAccountAuthorizationDetailsCommand({
        Filter: ['User', 'Group', 'Role', 'LocalManagedPolicy', 'AWSManagedPolicy'], MaxItems: 1000, Marker,
      }));
      users.push(...(r.UserDetailList ?? []));
      groups.push(...(r.GroupDetailList ?? []));
      roles.push(...(r.RoleDetailList ?? []));
      for (const p of r.Policies ?? []) if (p.Arn) managed.set(p.Arn, p);
      Marker = r.IsTruncated ? r.Marker : undefined;
    } while (Marker);
  } catch (err) {
    return { account, status: 'failed', error: callError('GetAccountAuthorizationDetails', err), entities: [] };
  }
  const inline = (list: PolicyDetail[] | undefined) => (list ?? []).map((p) => ({ kind: 'inline' as const, name: p.PolicyName ?? '', arn: null, document: decodeDocument(p.PolicyDocument) }));
  const attached = (list: AttachedPolicy[] | undefined) => (list ?? []).map((a) => {
    const detail = a.PolicyArn ? managed.get(a.PolicyArn) : undefined;
    const version = detail?.PolicyVersionList?.find((v) => v.IsDefaultVersion) ?? detail?.PolicyVersionList?.find((v) => v.VersionId === detail?.DefaultVersionId);
    const aws = /^arn:[^:]+:iam::aws:policy\//.test(a.PolicyArn ?? '');
    return { kind: aws ? 'aws_managed' as const : 'customer_managed' as const, name: a.PolicyName ?? '', arn: a.PolicyArn ?? null, document: decodeDocument(version?.Document) };
  });
  const entities: IamEntity[] = [
    ...users.map((u) => ({ arn: u.Arn ?? '', type: 'user' as const, name: u.UserName ?? '', uniqueId: u.UserId ?? '', groups: u.GroupList ?? [], policies: [...inline(u.UserPolicyList), ...attached(u.AttachedManagedPolicies)] })),
    ...groups.map((g) => ({ arn: g.Arn ?? '', type: 'group' as const, name: g.GroupName ?? '', uniqueId: g.GroupId ?? '', groups: [], policies: [...inline(g.GroupPolicyList), ...attached(g.AttachedManagedPolicies)] })),
    ...roles.map((r) => ({ arn: r.Arn ?? '', type: 'role' as const, name: r.RoleName ?? '', uniqueId: r.RoleId ?? '', groups: [], policies: [...inline(r.RolePolicyList), ...attached(r.AttachedManagedPolicies)] })),
  ];
  return { account, status: 'ok', error: null, entities: entities.filter((e) => e.arn !== '') };
}

/** Users and roles with their policies, a user's groups' policies included: the principals of access. */
export function principalsOf(entities: IamEntity[]): IamPrincipal[] {
  const groups = new Map(entities.filter((e) => e.type === 'group').map((g) => [g.name, g]));
  const own = (e: IamEntity, group: string | null): IamPolicy[] => e.policies.map((p) => ({ kind: p.kind, name: p.name, group, document: p.document }));
  return entities.filter((e) => e.type !== 'group').map((e) => ({
    arn: e.arn,
    policies: [...own(e, null), ...e.groups.flatMap((name) => { const g = groups.get(name); return g ? own(g, name) : []; })],
  }));
}
