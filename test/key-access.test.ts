// Effective access to a key (src/kms/access.ts): key policy, IAM identity policies and grants, with
// Action / NotAction, Resource / NotResource, wildcards, explicit Deny, groups, and the conditions
// keytrail cannot decide. Each case beside the look-alike that must not grant.

import { describe, expect, it } from 'vitest';
import { keyAccess, type AccessRow, type IamPrincipal } from '../src/kms/access.js';

const A = '111111111111';
const X = '999999999999';
const KEY = `arn:aws:kms:us-east-1:${A}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const OTHER = `arn:aws:kms:us-east-1:${A}:key/0000abcd-12ab-34cd-56ef-1234567890ab`;
const rootStatement = { Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A}:root` }, Action: 'kms:*', Resource: '*' };
const policy = (...st: unknown[]) => JSON.stringify({ Version: '2012-10-17', Statement: [rootStatement, ...st] });
const doc = (...st: unknown[]) => ({ Version: '2012-10-17', Statement: st });
const role = (name: string, ...policies: Array<{ name: string; document: unknown; kind?: string; group?: string }>): IamPrincipal => ({
  arn: `arn:aws:iam::${A}:role/${name}`, policies: policies.map((p) => ({ kind: p.kind ?? 'inline', name: p.name, group: p.group ?? null, document: p.document })),
});
const find = (rows: AccessRow[], principal: string, capability: string, via?: string) => rows.filter((r) => r.principal.endsWith(principal) && r.capability === capability && (!via || r.via === via));

describe('IAM identity policies, where the key policy lets the account root in', () => {
  const iam: IamPrincipal[] = [
    role('Exact', { name: 'decrypt-one', document: doc({ Effect: 'Allow', Action: 'kms:Decrypt', Resource: KEY }) }),
    role('Elsewhere', { name: 'decrypt-other', document: doc({ Effect: 'Allow', Action: 'kms:Decrypt', Resource: OTHER }) }),
    role('Star', { name: 'all', document: doc({ Effect: 'Allow', Action: '*', Resource: '*' }) }),
    role('Prefix', { name: 'gen', document: doc({ Effect: 'Allow', Action: ['kms:GenerateDataKey*', 'kms:Describe*'], Resource: `arn:aws:kms:*:${A}:key/*` }) }),
    role('NotAction', { name: 'na', document: doc({ Effect: 'Allow', NotAction: 'kms:Decrypt*', Resource: '*' }) }),
    role('NotResource', { name: 'nr', document: doc({ Effect: 'Allow', Action: 'kms:*', NotResource: KEY }) }),
    role('Denied', { name: 'all', document: doc({ Effect: 'Allow', Action: 'kms:*', Resource: '*' }, { Effect: 'Deny', Action: ['kms:Decrypt', 'kms:Put*', 'kms:ScheduleKeyDeletion'], Resource: '*' }) }),
    role('DeniedIf', { name: 'all', document: doc({ Effect: 'Allow', Action: 'kms:Decrypt', Resource: '*' }, { Sid: 'OffHours', Effect: 'Deny', Action: 'kms:Decrypt', Resource: '*', Condition: { Bool: { 'aws:MultiFactorAuthPresent': 'false' } } }) }),
    role('ViaS3', { name: 's3-only', document: doc({ Effect: 'Allow', Action: 'kms:Decrypt', Resource: KEY, Condition: { StringEquals: { 'kms:ViaService': 's3.us-east-1.amazonaws.com' } } }) }),
    role('ReadOnly', { name: 'ReadOnlyAccess', kind: 'aws_managed', document: doc({ Effect: 'Allow', Action: ['kms:Describe*', 'kms:Get*', 'kms:List*'], Resource: '*' }) }),
    { arn: `arn:aws:iam::${A}:user/alice`, policies: [{ kind: 'customer_managed', name: 'KmsUsers', group: 'crypto', document: doc({ Effect: 'Allow', Action: ['kms:Encrypt', 'kms:Decrypt'], Resource: '*' }) }] },
  ];
  const rows = keyAccess(KEY, policy(), [], iam);

  it('names each user and role IAM lets use the key, with the statement that does', () => {
    expect(find(rows, 'role/Exact', 'use')).toEqual([{ principal: `arn:aws:iam::${A}:role/Exact`, capability: 'use', via: 'iam_policy', detail: 'decrypt-one Statement[0]', conditional: null, actions: ['kms:Decrypt'] }]);
    expect(find(rows, 'role/Star', 'use')[0].actions).toHaveLength(8);
    expect(find(rows, 'role/Star', 'admin')[0].actions).toContain('kms:PutKeyPolicy');
    expect(find(rows, 'role/Prefix', 'use')[0].actions).toEqual(['kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:GenerateDataKeyPair', 'kms:GenerateDataKeyPairWithoutPlaintext']);
    // A group's policy reaches its member, and says through which group.
    expect(find(rows, 'user/alice', 'use')[0]).toMatchObject({ detail: 'group crypto: KmsUsers Statement[0]', actions: ['kms:Encrypt', 'kms:Decrypt'] });
  });

  it('NotAction leaves out what it names; NotResource on the key, another key, and read-only wildcards grant nothing', () => {
    const na = find(rows, 'role/NotAction', 'use')[0];
    expect(na.actions).toContain('kms:Encrypt');
    expect(na.actions).not.toContain('kms:Decrypt');
    expect(find(rows, 'role/NotAction', 'admin')[0].actions).toContain('kms:PutKeyPolicy');
    for (const r of ['role/NotResource', 'role/Elsewhere', 'role/ReadOnly']) expect(rows.filter((x) => x.principal.endsWith(r))).toEqual([]);
    expect(find(rows, 'role/Prefix', 'admin')).toEqual([]);
  });

  it('an explicit Deny removes what it covers; a conditional Deny leaves it, said in conditional', () => {
    expect(find(rows, 'role/Denied', 'use')[0].actions).not.toContain('kms:Decrypt');
    expect(find(rows, 'role/Denied', 'admin')[0].actions).not.toContain('kms:PutKeyPolicy');
    expect(find(rows, 'role/Denied', 'admin')[0].actions).not.toContain('kms:ScheduleKeyDeletion');
    expect(find(rows, 'role/DeniedIf', 'use')[0].conditional).toBe('unless all Statement[1] "OffHours" denies it (Bool aws:MultiFactorAuthPresent=false)');
  });

  it('kms:ViaService does not narrow who may call: the role is named, the condition is kept', () => {
    expect(find(rows, 'role/ViaS3', 'use')[0]).toMatchObject({ conditional: 'StringEquals kms:ViaService=s3.us-east-1.amazonaws.com', actions: ['kms:Decrypt'] });
  });

  it('the account root is a row of its own; without the root statement, IAM lets nobody in', () => {
    expect(find(rows, ':root', 'use', 'key_policy')).toHaveLength(1);
    const without = keyAccess(KEY, JSON.stringify(doc({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A}:role/Exact` }, Action: 'kms:Encrypt', Resource: '*' })), [], iam);
    expect(without.map((r) => [r.principal, r.via, r.actions])).toEqual([[`arn:aws:iam::${A}:role/Exact`, 'key_policy', ['kms:Encrypt']]]);
  });

  it('IAM not read: only the key policy speaks; key policy not read: only the grants', () => {
    expect(keyAccess(KEY, policy(), [], null).map((r) => r.principal)).toEqual([`arn:aws:iam::${A}:root`, `arn:aws:iam::${A}:root`]);
    expect(keyAccess(KEY, null, [{ grantId: 'g1', granteePrincipal: `arn:aws:iam::${A}:role/App`, operations: ['Decrypt'], constraints: null }], iam).map((r) => [r.principal, r.via])).toEqual([[`arn:aws:iam::${A}:role/App`, 'grant']]);
  });
});

describe('the key policy', () => {
  const admin = { Sid: 'Key administrators', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A}:role/KeyAdmin` }, Action: ['kms:Create*', 'kms:Describe*', 'kms:Enable*', 'kms:List*', 'kms:Put*', 'kms:Update*', 'kms:Revoke*', 'kms:Disable*', 'kms:Get*', 'kms:Delete*', 'kms:TagResource', 'kms:UntagResource', 'kms:ScheduleKeyDeletion', 'kms:CancelKeyDeletion'], Resource: '*' };
  const users = { Sid: 'Key users', Effect: 'Allow', Principal: { AWS: [`arn:aws:iam::${A}:role/App`, X] }, Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'], Resource: '*' };

  it('a key administrator (the console\'s default statement) can administer, not use', () => {
    const rows = keyAccess(KEY, policy(admin), [], null);
    expect(find(rows, 'role/KeyAdmin', 'use')).toEqual([]);
    expect(find(rows, 'role/KeyAdmin', 'admin')[0]).toMatchObject({ via: 'key_policy', detail: 'Statement[1] "Key administrators"', conditional: null });
    expect(find(rows, 'role/KeyAdmin', 'admin')[0].actions).toEqual(expect.arrayContaining(['kms:PutKeyPolicy', 'kms:ScheduleKeyDeletion', 'kms:CreateGrant']));
  });

  it('names each principal of a statement; a bare account id is its root', () => {
    const rows = keyAccess(KEY, policy(users), [], null);
    expect(find(rows, 'role/App', 'use')[0].actions).toEqual(['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:GenerateDataKeyPair', 'kms:GenerateDataKeyPairWithoutPlaintext']);
    expect(find(rows, `${X}:root`, 'use')).toHaveLength(1);
  });

  it('"*" narrowed by kms:CallerAccount is any principal of that account; ViaService alone leaves "*"', () => {
    const rows = keyAccess(KEY, policy(
      { Sid: 'Account', Effect: 'Allow', Principal: { AWS: '*' }, Action: 'kms:Decrypt', Resource: '*', Condition: { StringEquals: { 'kms:CallerAccount': A, 'kms:ViaService': 'ec2.us-east-1.amazonaws.com' } } },
      { Sid: 'Via', Effect: 'Allow', Principal: '*', Action: 'kms:Decrypt', Resource: '*', Condition: { StringEquals: { 'kms:ViaService': 'ec2.us-east-1.amazonaws.com' } } },
    ), [], null);
    expect(find(rows, `iam::${A}:*`, 'use')[0]).toMatchObject({ principal: `arn:aws:iam::${A}:*`, conditional: 'StringEquals kms:ViaService=ec2.us-east-1.amazonaws.com' });
    expect(rows.find((r) => r.principal === '*')).toMatchObject({ detail: 'Statement[2] "Via"', conditional: 'StringEquals kms:ViaService=ec2.us-east-1.amazonaws.com' });
  });

  it('a Deny in the key policy removes the action from every way in, grants and IAM included', () => {
    const deny = { Sid: 'NoDelete', Effect: 'Deny', Principal: '*', Action: ['kms:ScheduleKeyDeletion', 'kms:Decrypt'], Resource: '*' };
    const rows = keyAccess(KEY, policy(admin, users, deny), [{ grantId: 'g1', granteePrincipal: `arn:aws:iam::${A}:role/Batch`, operations: ['Decrypt', 'Encrypt'], constraints: null }],
      [role('Star', { name: 'all', document: doc({ Effect: 'Allow', Action: '*', Resource: '*' }) })]);
    for (const r of rows) {
      expect(r.actions).not.toContain('kms:ScheduleKeyDeletion');
      expect(r.actions).not.toContain('kms:Decrypt');
    }
    expect(find(rows, 'role/Batch', 'use')[0].actions).toEqual(['kms:Encrypt']);
    expect(find(rows, 'role/Star', 'admin')[0].actions).toContain('kms:PutKeyPolicy');
  });
});

describe('grants', () => {
  it('a grant gives its grantee its operations; constraints are conditional; CreateGrant is administration', () => {
    const rows = keyAccess(KEY, policy(), [
      { grantId: 'g-ebs', granteePrincipal: `${A}:aws:ec2-infrastructure:i-0123`, operations: ['Decrypt', 'CreateGrant', 'DescribeKey'], constraints: { EncryptionContextSubset: { 'aws:ebs:id': 'vol-0abc' } } },
    ], null);
    expect(rows.filter((r) => r.via === 'grant').map((r) => [r.capability, r.detail, r.conditional, r.actions])).toEqual([
      ['use', 'grant g-ebs', 'EncryptionContextSubset aws:ebs:id=vol-0abc', ['kms:Decrypt']],
      ['admin', 'grant g-ebs', 'EncryptionContextSubset aws:ebs:id=vol-0abc', ['kms:CreateGrant']],
    ]);
  });
});
