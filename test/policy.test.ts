import { describe, it, expect } from 'vitest';
import { accountOfPrincipal, analyzeGrant, analyzeKeyPolicy, type PolicyExposure, type TrustContext } from '../src/kms/policy.js';

const OWN = '111111111111';
const PARTNER = '222222222222';
const OUTSIDER = '999999999999';
const ORG = 'o-abc123def4';
const OTHER_ORG = 'o-zzz999yyy8';

const trust: TrustContext = { trustedAccounts: new Set([OWN, PARTNER]), trustedOrgIds: new Set([ORG]) };
const trustNoOrgs: TrustContext = { trustedAccounts: new Set([OWN, PARTNER]) };

type Stmt = Record<string, unknown>;
const policy = (...Statement: Stmt[]): string => JSON.stringify({ Version: '2012-10-17', Statement });
const allow = (Principal: unknown, extra: Stmt = {}): Stmt => ({ Effect: 'Allow', Principal, Action: 'kms:*', Resource: '*', ...extra });

/** Compact view of findings: kind plus sorted accounts. */
const summary = (xs: PolicyExposure[]): { kind: string; accounts: string[] }[] =>
  xs.map((x) => ({ kind: x.kind, accounts: [...x.accounts].sort() }));

const defaultKeyPolicy = {
  Version: '2012-10-17',
  Id: 'key-default-1',
  Statement: [
    { Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${OWN}:root` }, Action: 'kms:*', Resource: '*' },
  ],
};

describe('accountOfPrincipal', () => {
  it.each([
    [OWN, OWN],
    [` ${OWN} `, OWN],
    [`arn:aws:iam::${OWN}:root`, OWN],
    [`arn:aws:iam::${OWN}:role/x`, OWN],
    [`arn:aws:iam::${OWN}:user/path/u`, OWN],
    [`arn:aws:sts::${OWN}:assumed-role/r/s`, OWN],
    [`arn:aws-us-gov:iam::${OWN}:root`, OWN],
    ['dynamodb.us-east-1.amazonaws.com', null],
    ['AWS Internal', null],
    ['*', null],
    ['arn:aws:iam::*:root', null],
    ['12345', null],
    ['AROAEXAMPLEEXAMPLE123', null],
  ])('%s -> %s', (p, want) => {
    expect(accountOfPrincipal(p)).toBe(want);
  });
});

describe('analyzeKeyPolicy: named principals', () => {
  it('AWS default key policy (own root) is not exposed', () => {
    expect(analyzeKeyPolicy(defaultKeyPolicy, trust)).toEqual([]);
    expect(analyzeKeyPolicy(JSON.stringify(defaultKeyPolicy), trust)).toEqual([]);
  });

  it('cross-account root principal is an untrusted account', () => {
    const r = analyzeKeyPolicy(policy(allow({ AWS: `arn:aws:iam::${OUTSIDER}:root` }, { Sid: 'X', Action: ['kms:Decrypt', 'kms:Encrypt'] })), trust);
    expect(summary(r)).toEqual([{ kind: 'untrusted_account', accounts: [OUTSIDER] }]);
    expect(r[0]).toMatchObject({ statementIndex: 0, sid: 'X', principal: `arn:aws:iam::${OUTSIDER}:root`, actions: ['kms:Decrypt', 'kms:Encrypt'] });
    expect(r[0]?.reason).toContain(OUTSIDER);
    expect(r[0]?.reason).toContain('kms:Decrypt, kms:Encrypt');
  });

  it('bare account id, role, user and assumed-role ARNs', () => {
    const r = analyzeKeyPolicy(policy(allow({
      AWS: [OUTSIDER, 'arn:aws:iam::333333333333:role/r', 'arn:aws:iam::444444444444:user/u', 'arn:aws:sts::555555555555:assumed-role/r/s'],
    })), trust);
    expect(summary(r)).toEqual([
      { kind: 'untrusted_account', accounts: [OUTSIDER] },
      { kind: 'untrusted_account', accounts: ['333333333333'] },
      { kind: 'untrusted_account', accounts: ['444444444444'] },
      { kind: 'untrusted_account', accounts: ['555555555555'] },
    ]);
  });

  it('a trusted second account is not exposed', () => {
    expect(analyzeKeyPolicy(policy(allow({ AWS: [`arn:aws:iam::${PARTNER}:root`, `arn:aws:iam::${OWN}:role/admin`] })), trust)).toEqual([]);
  });

  it('role wildcard in a trusted account is not exposed, in an untrusted one it is', () => {
    expect(analyzeKeyPolicy(policy(allow({ AWS: `arn:aws:iam::${OWN}:role/*` })), trust)).toEqual([]);
    expect(summary(analyzeKeyPolicy(policy(allow({ AWS: `arn:aws:iam::${OUTSIDER}:role/*` })), trust))).toEqual([{ kind: 'untrusted_account', accounts: [OUTSIDER] }]);
  });

  it('a named untrusted principal limited by a trusted-org condition is not exposed', () => {
    const st = allow({ AWS: `arn:aws:iam::${OUTSIDER}:root` }, { Condition: { StringEquals: { 'aws:PrincipalOrgID': ORG } } });
    expect(analyzeKeyPolicy(policy(st), trust)).toEqual([]);
  });

  it('a named untrusted principal with a network condition is still exposed', () => {
    const st = allow({ AWS: OUTSIDER }, { Condition: { StringEquals: { 'aws:SourceVpce': 'vpce-0123' } } });
    expect(summary(analyzeKeyPolicy(policy(st), trust))).toEqual([{ kind: 'untrusted_account', accounts: [OUTSIDER] }]);
  });
});

describe('analyzeKeyPolicy: public principals', () => {
  it('Principal "*" with no condition is public', () => {
    const r = analyzeKeyPolicy(policy(allow({ AWS: `arn:aws:iam::${OWN}:root` }), allow('*', { Sid: 'OpenToAll' })), trust);
    expect(summary(r)).toEqual([{ kind: 'public', accounts: [] }]);
    expect(r[0]).toMatchObject({ statementIndex: 1, sid: 'OpenToAll', principal: '*', actions: ['kms:*'] });
    expect(r[0]?.reason).toBe('Statement[1] ("OpenToAll") allows kms:* to Principal "*" with no condition that limits it to trusted accounts or the organization');
  });

  it('{"AWS":"*"} and {"AWS":["*", ...]} are public', () => {
    expect(summary(analyzeKeyPolicy(policy(allow({ AWS: '*' })), trust))).toEqual([{ kind: 'public', accounts: [] }]);
    expect(summary(analyzeKeyPolicy(policy(allow({ AWS: ['*', `arn:aws:iam::${OWN}:root`] })), trust))).toEqual([{ kind: 'public', accounts: [] }]);
  });

  it('wildcard account in an ARN principal is public', () => {
    expect(summary(analyzeKeyPolicy(policy(allow({ AWS: 'arn:aws:iam::*:root' })), trust))).toEqual([{ kind: 'public', accounts: [] }]);
    expect(summary(analyzeKeyPolicy(policy(allow({ AWS: 'arn:aws:iam::*:role/deploy' })), trust))).toEqual([{ kind: 'public', accounts: [] }]);
  });

  it('Allow with NotPrincipal is public', () => {
    const r = analyzeKeyPolicy(policy({ Effect: 'Allow', NotPrincipal: { AWS: `arn:aws:iam::${OUTSIDER}:root` }, Action: 'kms:Decrypt', Resource: '*' }), trust);
    expect(summary(r)).toEqual([{ kind: 'public', accounts: [] }]);
    expect(r[0]?.principal).toBe(`NotPrincipal: arn:aws:iam::${OUTSIDER}:root`);
    expect(r[0]?.reason).toContain('NotPrincipal');
  });

  it('Federated non-ARN provider is treated like "*"', () => {
    expect(summary(analyzeKeyPolicy(policy(allow({ Federated: 'accounts.google.com' })), trust))).toEqual([{ kind: 'public', accounts: [] }]);
  });

  it('Federated ARN is attributed to its account', () => {
    expect(analyzeKeyPolicy(policy(allow({ Federated: `arn:aws:iam::${OWN}:saml-provider/okta` })), trust)).toEqual([]);
    expect(summary(analyzeKeyPolicy(policy(allow({ Federated: `arn:aws:iam::${OUTSIDER}:saml-provider/okta` })), trust))).toEqual([{ kind: 'untrusted_account', accounts: [OUTSIDER] }]);
  });

  it('CanonicalUser cannot be attributed and is reported with no accounts', () => {
    const r = analyzeKeyPolicy(policy(allow({ CanonicalUser: '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be' })), trust);
    expect(summary(r)).toEqual([{ kind: 'untrusted_account', accounts: [] }]);
  });
});

describe('analyzeKeyPolicy: narrowing conditions', () => {
  it('AWS-managed key pattern (CallerAccount + ViaService) is not public', () => {
    const st = allow({ AWS: '*' }, {
      Sid: 'Allow access through EBS for all principals in the account that are authorized to use EBS',
      Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:CreateGrant', 'kms:DescribeKey'],
      Condition: { StringEquals: { 'kms:CallerAccount': OWN, 'kms:ViaService': 'ec2.us-east-1.amazonaws.com' } },
    });
    expect(analyzeKeyPolicy(policy(st, allow({ AWS: `arn:aws:iam::${OWN}:root` }, { Action: ['kms:Describe*', 'kms:Get*', 'kms:List*'] })), trust)).toEqual([]);
  });

  it('kms:ViaService alone does not narrow', () => {
    const st = allow({ AWS: '*' }, { Condition: { StringEquals: { 'kms:ViaService': 's3.us-east-1.amazonaws.com' } } });
    expect(summary(analyzeKeyPolicy(policy(st), trust))).toEqual([{ kind: 'public', accounts: [] }]);
  });

  it('aws:PrincipalOrgID of the trusted org is not public', () => {
    const st = allow({ AWS: '*' }, { Condition: { StringEquals: { 'aws:PrincipalOrgID': ORG } } });
    expect(analyzeKeyPolicy(policy(st), trust)).toEqual([]);
  });

  it('aws:PrincipalOrgID of an unknown org is public when trusted orgs are given', () => {
    const st = allow({ AWS: '*' }, { Condition: { StringEquals: { 'aws:PrincipalOrgID': OTHER_ORG } } });
    const r = analyzeKeyPolicy(policy(st), trust);
    expect(summary(r)).toEqual([{ kind: 'public', accounts: [] }]);
    expect(r[0]?.reason).toContain(OTHER_ORG);
  });

  it('aws:PrincipalOrgID counts as "the organization" when no trusted orgs are given', () => {
    const st = allow({ AWS: '*' }, { Condition: { StringEquals: { 'aws:PrincipalOrgID': OTHER_ORG } } });
    expect(analyzeKeyPolicy(policy(st), trustNoOrgs)).toEqual([]);
  });

  it('one untrusted org among the values is public', () => {
    const st = allow({ AWS: '*' }, { Condition: { StringEquals: { 'aws:PrincipalOrgID': [ORG, OTHER_ORG] } } });
    expect(summary(analyzeKeyPolicy(policy(st), trust))).toEqual([{ kind: 'public', accounts: [] }]);
  });

  it('kms:CallerAccount of an untrusted account is an untrusted_account exposure', () => {
    const st = allow('*', { Condition: { StringEquals: { 'kms:CallerAccount': [OWN, OUTSIDER] } } });
    const r = analyzeKeyPolicy(policy(st), trust);
    expect(summary(r)).toEqual([{ kind: 'untrusted_account', accounts: [OUTSIDER] }]);
    expect(r[0]?.reason).toBe(`Statement[0] allows kms:* to Principal "*", but condition kms:CallerAccount limits it to account(s) ${OUTSIDER} outside the trusted accounts`);
  });

  it('aws:PrincipalAccount / aws:SourceAccount of trusted accounts are not public', () => {
    expect(analyzeKeyPolicy(policy(allow('*', { Condition: { StringEquals: { 'aws:PrincipalAccount': [OWN, PARTNER] } } })), trust)).toEqual([]);
    expect(analyzeKeyPolicy(policy(allow('*', { Condition: { StringEquals: { 'aws:SourceAccount': OWN } } })), trust)).toEqual([]);
  });

  it('condition keys and operators are case-insensitive', () => {
    const st = allow('*', { Condition: { stringequalsignorecase: { 'AWS:PRINCIPALACCOUNT': OWN } } });
    expect(analyzeKeyPolicy(policy(st), trust)).toEqual([]);
  });

  it('ForAnyValue:StringEquals narrows', () => {
    const st = allow('*', { Condition: { 'ForAnyValue:StringEquals': { 'aws:PrincipalOrgID': ORG } } });
    expect(analyzeKeyPolicy(policy(st), trust)).toEqual([]);
  });

  it('ForAllValues:StringEquals on a single-valued key does not narrow (empty set matches)', () => {
    const st = allow('*', { Condition: { 'ForAllValues:StringEquals': { 'aws:PrincipalOrgID': ORG } } });
    expect(summary(analyzeKeyPolicy(policy(st), trust))).toEqual([{ kind: 'public', accounts: [] }]);
  });

  it('ForAllValues on aws:PrincipalOrgPaths does not narrow, ForAnyValue does', () => {
    const path = `${ORG}/r-ab12/ou-ab12-11111111/`;
    expect(summary(analyzeKeyPolicy(policy(allow('*', { Condition: { 'ForAllValues:StringLike': { 'aws:PrincipalOrgPaths': `${path}*` } } })), trust)))
      .toEqual([{ kind: 'public', accounts: [] }]);
    expect(analyzeKeyPolicy(policy(allow('*', { Condition: { 'ForAnyValue:StringLike': { 'aws:PrincipalOrgPaths': `${path}*` } } })), trust)).toEqual([]);
  });

  it('...IfExists operators do not narrow', () => {
    const st = allow('*', { Condition: { StringEqualsIfExists: { 'aws:PrincipalOrgID': ORG } } });
    expect(summary(analyzeKeyPolicy(policy(st), trust))).toEqual([{ kind: 'public', accounts: [] }]);
  });

  it('StringLike with a "*" value is public, with a literal account it narrows', () => {
    expect(summary(analyzeKeyPolicy(policy(allow('*', { Condition: { StringLike: { 'kms:CallerAccount': '*' } } })), trust))).toEqual([{ kind: 'public', accounts: [] }]);
    expect(summary(analyzeKeyPolicy(policy(allow('*', { Condition: { StringLike: { 'aws:PrincipalOrgID': 'o-*' } } })), trust))).toEqual([{ kind: 'public', accounts: [] }]);
    expect(analyzeKeyPolicy(policy(allow('*', { Condition: { StringLike: { 'kms:CallerAccount': OWN } } })), trust)).toEqual([]);
  });

  it('negated operators in an Allow do not narrow', () => {
    const st = allow('*', { Condition: { StringNotEquals: { 'aws:PrincipalAccount': OUTSIDER } } });
    expect(summary(analyzeKeyPolicy(policy(st), trust))).toEqual([{ kind: 'public', accounts: [] }]);
  });

  it('aws:PrincipalArn: trusted account narrows, wildcard account does not, untrusted account is reported', () => {
    expect(analyzeKeyPolicy(policy(allow('*', { Condition: { ArnLike: { 'aws:PrincipalArn': `arn:aws:iam::${OWN}:role/app-*` } } })), trust)).toEqual([]);
    expect(summary(analyzeKeyPolicy(policy(allow('*', { Condition: { ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:role/app' } } })), trust)))
      .toEqual([{ kind: 'public', accounts: [] }]);
    expect(summary(analyzeKeyPolicy(policy(allow('*', { Condition: { ArnEquals: { 'aws:PrincipalArn': `arn:aws:iam::${OUTSIDER}:role/app` } } })), trust)))
      .toEqual([{ kind: 'untrusted_account', accounts: [OUTSIDER] }]);
  });

  it('aws:SourceArn without an account field (S3 bucket) does not narrow', () => {
    const st = allow('*', { Condition: { ArnLike: { 'aws:SourceArn': 'arn:aws:s3:::my-bucket' } } });
    expect(summary(analyzeKeyPolicy(policy(st), trust))).toEqual([{ kind: 'public', accounts: [] }]);
  });

  it('aws:SourceVpce / aws:SourceVpc make "*" not public', () => {
    expect(analyzeKeyPolicy(policy(allow('*', { Condition: { StringEquals: { 'aws:SourceVpce': 'vpce-1a2b3c4d' } } })), trust)).toEqual([]);
    expect(analyzeKeyPolicy(policy(allow('*', { Condition: { StringEquals: { 'aws:sourcevpc': ['vpc-111', 'vpc-222'] } } })), trust)).toEqual([]);
  });

  it('ANDed account conditions intersect', () => {
    const st = allow('*', { Condition: { StringEquals: { 'kms:CallerAccount': [OWN, OUTSIDER], 'aws:PrincipalAccount': OWN } } });
    expect(analyzeKeyPolicy(policy(st), trust)).toEqual([]);
  });

  it('a policy variable in a value does not narrow', () => {
    const st = allow('*', { Condition: { StringEquals: { 'aws:PrincipalAccount': '${aws:ResourceAccount}' } } });
    expect(summary(analyzeKeyPolicy(policy(st), trust))).toEqual([{ kind: 'public', accounts: [] }]);
  });
});

describe('analyzeKeyPolicy: Deny statements', () => {
  it('Deny with "*" never creates exposure', () => {
    expect(analyzeKeyPolicy(policy({ Effect: 'Deny', Principal: '*', Action: 'kms:*', Resource: '*' }), trust)).toEqual([]);
    expect(analyzeKeyPolicy(policy({ Effect: 'Deny', Principal: { AWS: OUTSIDER }, Action: 'kms:*' }), trust)).toEqual([]);
  });

  it('Deny-outside-org guard makes Allow "*" not public', () => {
    const p = policy(
      allow('*', { Sid: 'Open' }),
      { Sid: 'DenyOutsideOrg', Effect: 'Deny', Principal: { AWS: '*' }, Action: '*', Resource: '*', Condition: { StringNotEquals: { 'aws:PrincipalOrgID': ORG }, Bool: { 'aws:PrincipalIsAWSService': 'false' } } },
    );
    expect(analyzeKeyPolicy(p, trust)).toEqual([]);
  });

  it('Deny-outside-org guard also covers named untrusted accounts', () => {
    const p = policy(
      allow({ AWS: OUTSIDER }),
      { Effect: 'Deny', Principal: '*', Action: 'kms:*', Condition: { StringNotEqualsIfExists: { 'aws:PrincipalOrgID': ORG } } },
    );
    expect(analyzeKeyPolicy(p, trust)).toEqual([]);
  });

  it('Deny guard on an untrusted org does not help', () => {
    const p = policy(allow('*'), { Effect: 'Deny', Principal: '*', Action: 'kms:*', Condition: { StringNotEquals: { 'aws:PrincipalOrgID': OTHER_ORG } } });
    expect(summary(analyzeKeyPolicy(p, trust))).toEqual([{ kind: 'public', accounts: [] }]);
  });

  it('Deny guard on kms:CallerAccount narrows Allow "*" to those accounts', () => {
    const trusted = policy(allow('*'), { Effect: 'Deny', Principal: '*', Action: 'kms:*', Condition: { StringNotEquals: { 'kms:CallerAccount': [OWN, PARTNER] } } });
    expect(analyzeKeyPolicy(trusted, trust)).toEqual([]);
    const leaky = policy(allow('*'), { Effect: 'Deny', Principal: '*', Action: 'kms:*', Condition: { StringNotEquals: { 'aws:PrincipalAccount': [OWN, OUTSIDER] } } });
    expect(summary(analyzeKeyPolicy(leaky, trust))).toEqual([{ kind: 'untrusted_account', accounts: [OUTSIDER] }]);
  });

  it('Deny guard that covers only some of the allowed actions does not help', () => {
    const p = policy(
      allow('*', { Action: ['kms:Decrypt', 'kms:Encrypt'] }),
      { Effect: 'Deny', Principal: '*', Action: 'kms:Decrypt', Condition: { StringNotEquals: { 'aws:PrincipalOrgID': ORG } } },
    );
    expect(summary(analyzeKeyPolicy(p, trust))).toEqual([{ kind: 'public', accounts: [] }]);
    const covered = policy(
      allow('*', { Action: ['kms:Decrypt', 'kms:ReEncryptFrom'] }),
      { Effect: 'Deny', Principal: '*', Action: ['kms:Decrypt', 'kms:ReEncrypt*'], Condition: { StringNotEquals: { 'aws:PrincipalOrgID': ORG } } },
    );
    expect(analyzeKeyPolicy(covered, trust)).toEqual([]);
  });

  it('Deny guard with an extra unrelated condition is not a guard', () => {
    const p = policy(allow('*'), { Effect: 'Deny', Principal: '*', Action: '*', Condition: { StringNotEquals: { 'aws:PrincipalOrgID': ORG }, IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } });
    expect(summary(analyzeKeyPolicy(p, trust))).toEqual([{ kind: 'public', accounts: [] }]);
  });

  it('Deny with NotPrincipal of trusted accounts restricts Allow "*"', () => {
    const p = policy(allow('*'), { Effect: 'Deny', NotPrincipal: { AWS: [`arn:aws:iam::${OWN}:root`, `arn:aws:iam::${OWN}:role/app`] }, Action: 'kms:*' });
    expect(analyzeKeyPolicy(p, trust)).toEqual([]);
  });

  it('unconditional Deny on an account root suppresses that account', () => {
    const p = policy(allow({ AWS: [OUTSIDER, 'arn:aws:iam::333333333333:root'] }), { Effect: 'Deny', Principal: { AWS: `arn:aws:iam::${OUTSIDER}:root` }, Action: '*' });
    expect(summary(analyzeKeyPolicy(p, trust))).toEqual([{ kind: 'untrusted_account', accounts: ['333333333333'] }]);
  });
});

describe('analyzeKeyPolicy: shapes and malformed input', () => {
  it('Statement as a single object', () => {
    const r = analyzeKeyPolicy({ Version: '2012-10-17', Statement: allow('*') }, trust);
    expect(summary(r)).toEqual([{ kind: 'public', accounts: [] }]);
    expect(r[0]?.statementIndex).toBe(0);
  });

  it('string Principal "*"', () => {
    expect(summary(analyzeKeyPolicy(policy({ Effect: 'Allow', Principal: '*', Action: 'kms:Decrypt' }), trust))).toEqual([{ kind: 'public', accounts: [] }]);
  });

  it('Service principals are not exposure, with or without SourceAccount', () => {
    const p = policy(
      allow({ Service: 'cloudtrail.amazonaws.com' }, { Action: 'kms:GenerateDataKey*' }),
      allow({ Service: ['logs.us-east-1.amazonaws.com', 'delivery.logs.amazonaws.com'] }, { Condition: { StringEquals: { 'aws:SourceAccount': OUTSIDER } } }),
    );
    expect(analyzeKeyPolicy(p, trust)).toEqual([]);
  });

  it('dangling IAM unique ids (deleted roles) are not exposure', () => {
    expect(analyzeKeyPolicy(policy(allow({ AWS: 'AROAEXAMPLEEXAMPLE123' })), trust)).toEqual([]);
  });

  it('NotAction is reported as written', () => {
    const r = analyzeKeyPolicy(policy({ Effect: 'Allow', Principal: '*', NotAction: ['kms:ScheduleKeyDeletion', 'kms:PutKeyPolicy'] }), trust);
    expect(r.map((x) => x.actions)).toEqual([['NotAction: kms:ScheduleKeyDeletion', 'NotAction: kms:PutKeyPolicy']]);
  });

  it('missing Effect, missing Principal, missing Action and junk entries are skipped', () => {
    const doc = {
      Statement: [
        { Principal: '*', Action: 'kms:*' },
        { Effect: 'Allow', Action: 'kms:*' },
        { Effect: 'Allow', Principal: '*' },
        'junk',
        null,
        42,
        { Effect: 'Allow', Principal: { AWS: [null, {}, Number(OUTSIDER)] }, Action: 'kms:Decrypt', Condition: 'bogus' },
      ],
    };
    const r = analyzeKeyPolicy(doc, trust);
    expect(summary(r)).toEqual([{ kind: 'untrusted_account', accounts: [OUTSIDER] }]);
    expect(r[0]?.statementIndex).toBe(6);
  });

  it('no Statement at all yields nothing', () => {
    expect(analyzeKeyPolicy({ Version: '2012-10-17' }, trust)).toEqual([]);
  });

  it('invalid JSON string throws a clear error', () => {
    expect(() => analyzeKeyPolicy('{"Statement": [', trust)).toThrow(/KMS key policy is not valid JSON/);
  });

  it('non-object documents throw a clear error', () => {
    expect(() => analyzeKeyPolicy('null', trust)).toThrow(/must be a JSON object/);
    expect(() => analyzeKeyPolicy([1, 2], trust)).toThrow(/must be a JSON object, got an array/);
    expect(() => analyzeKeyPolicy(undefined, trust)).toThrow(/must be a JSON object/);
  });

  it('reports every offending principal of a mixed statement, in order', () => {
    const r = analyzeKeyPolicy(policy(allow({ AWS: [OUTSIDER, `arn:aws:iam::${OWN}:root`, '*'], Service: 's3.amazonaws.com' })), trust);
    expect(r.map((x) => [x.kind, x.principal])).toEqual([['untrusted_account', OUTSIDER], ['public', '*']]);
  });
});

describe('analyzeGrant', () => {
  const keyArn = `arn:aws:kms:us-east-1:${OWN}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;

  it('grant to an untrusted role is reported with its operations', () => {
    const r = analyzeGrant({ keyId: keyArn, granteePrincipal: `arn:aws:iam::${OUTSIDER}:role/app`, operations: ['Decrypt', 'GenerateDataKey'] }, OWN, trust);
    expect(summary(r)).toEqual([{ kind: 'untrusted_account', accounts: [OUTSIDER] }]);
    expect(r[0]).toMatchObject({ statementIndex: -1, actions: ['Decrypt', 'GenerateDataKey'], principal: `arn:aws:iam::${OUTSIDER}:role/app` });
    expect(r[0]?.reason).toContain('grantee principal');
  });

  it('grant to a trusted account is not reported', () => {
    expect(analyzeGrant({ keyId: keyArn, granteePrincipal: `arn:aws:iam::${PARTNER}:role/app`, operations: ['Decrypt'] }, OWN, trust)).toEqual([]);
  });

  it('key account is trusted even when not listed, and is derived from the key ARN when null', () => {
    const empty: TrustContext = { trustedAccounts: new Set() };
    expect(analyzeGrant({ keyId: keyArn, granteePrincipal: `arn:aws:iam::${OWN}:role/app`, operations: ['Decrypt'] }, null, empty)).toEqual([]);
  });

  it('service principals as grantee are not exposure', () => {
    expect(analyzeGrant({ keyId: keyArn, granteePrincipal: 'dynamodb.us-east-1.amazonaws.com', retiringPrincipal: 'dynamodb.us-east-1.amazonaws.com', operations: ['Decrypt'] }, OWN, trust)).toEqual([]);
    expect(analyzeGrant({ keyId: keyArn, granteePrincipal: 'AWS Internal', operations: ['Decrypt'] }, OWN, trust)).toEqual([]);
  });

  it('untrusted retiring principal is reported separately', () => {
    const r = analyzeGrant({
      keyId: keyArn,
      granteePrincipal: `arn:aws:iam::${OWN}:role/app`,
      retiringPrincipal: `arn:aws:sts::${OUTSIDER}:assumed-role/ops/s`,
      operations: ['Encrypt'],
    }, OWN, trust);
    expect(summary(r)).toEqual([{ kind: 'untrusted_account', accounts: [OUTSIDER] }]);
    expect(r[0]?.actions).toEqual(['kms:RetireGrant']);
    expect(r[0]?.reason).toContain('retiring principal');
  });

  it('both grantee and retiring untrusted, bare account id', () => {
    const r = analyzeGrant({ keyId: 'alias/x', granteePrincipal: OUTSIDER, retiringPrincipal: '333333333333', operations: 'Decrypt' }, OWN, trust);
    expect(summary(r)).toEqual([{ kind: 'untrusted_account', accounts: [OUTSIDER] }, { kind: 'untrusted_account', accounts: ['333333333333'] }]);
  });

  it('malformed request parameters give nothing', () => {
    expect(analyzeGrant(null, OWN, trust)).toEqual([]);
    expect(analyzeGrant('x', OWN, trust)).toEqual([]);
    expect(analyzeGrant({ operations: ['Decrypt'] }, OWN, trust)).toEqual([]);
  });
});
