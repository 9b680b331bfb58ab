// schemas/cloudtrail/normalize.sql through the real ingest: who the caller is for every identity
// type CloudTrail writes (shapes from the CloudTrail userIdentity reference and the KMS developer
// guide's cross-account examples), the key, times and odd types.

import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ingestFolder, sql } from './helpers/ingest.js';
import { logObjectKey, tempDir, writeLogObject } from './helpers/log-objects.js';
import { at, identity, kmsEvent, keyArn, loadTrail, writeTrail, type CtRecord, type UserIdentity } from './helpers/trail.js';

const OWNER = '111122223333';
const OTHER = '444455556666';
const KEY = keyArn(OWNER, '1234abcd-12ab-34cd-56ef-1234567890ab');
const ROLE_ID = 'AROAIGDTESTANDEXAMPLE';
const ROLE_ARN = `arn:aws:iam::${OTHER}:role/service/AppRole`;

/** How the key owner's trail records another account's role session: no ARN, no sessionContext. */
const crossAccount = (session: string): UserIdentity => ({ type: 'AWSAccount', principalId: `${ROLE_ID}:${session}`, accountId: OTHER });

/** The same role's session as its own account's trail records it. */
const ownSession = (session: string): UserIdentity => ({
  type: 'AssumedRole', principalId: `${ROLE_ID}:${session}`, arn: `arn:aws:sts::${OTHER}:assumed-role/AppRole/${session}`,
  accountId: OTHER, accessKeyId: 'ASIAEXAMPLE',
  sessionContext: {
    sessionIssuer: { type: 'Role', principalId: ROLE_ID, arn: ROLE_ARN, accountId: OTHER, userName: 'AppRole' },
    attributes: { creationDate: '2024-05-01T09:00:00Z', mfaAuthenticated: 'false' },
  },
});

const decrypt = (who: UserIdentity, time: string, extra: Partial<CtRecord> = {}) =>
  kmsEvent({ eventName: 'Decrypt', time, identity: who, key: KEY, account: OWNER, extra });

type Row = { identity_arn: string | null; session_name: string | null; principal_type: string | null };

async function identities(records: CtRecord[]): Promise<Row[]> {
  const trail = await loadTrail(records);
  try {
    return await sql<Row>(trail.db, 'SELECT identity_arn, session_name, principal_type FROM kms_events ORDER BY event_time');
  } finally {
    trail.cleanup();
  }
}

/**
 * One record per identity shape CloudTrail writes, with the caller keytrail is to name (and the
 * session). They are ingested together, in one database rather than one each (~0.5 CPU-s per
 * ingest), and each test reads its own row by eventID: their principal ids, roles and accounts'
 * users all differ, so no record can teach the directory another one's caller.
 */
const SHAPES: Array<[string, UserIdentity, string, string | null]> = [
  ['an IAM user', identity.user(OWNER, 'alice'), `arn:aws:iam::${OWNER}:user/alice`, null],
  ['the root user', identity.root(OWNER), `arn:aws:iam::${OWNER}:root`, null],
  ['a federated user (GetFederationToken)', {
    type: 'FederatedUser', principalId: `${OWNER}:Alice`, arn: `arn:aws:sts::${OWNER}:federated-user/Alice`, accountId: OWNER,
    accessKeyId: 'ASIAEXAMPLE', sessionContext: {
      attributes: { creationDate: '2024-05-01T09:00:00Z', mfaAuthenticated: 'false' },
      sessionIssuer: { type: 'IAMUser', principalId: 'AIDAJ45Q7YFFAREXAMPLE', arn: `arn:aws:iam::${OWNER}:user/Bob`, accountId: OWNER, userName: 'Bob' },
    },
  }, `arn:aws:sts::${OWNER}:federated-user/Alice`, 'Alice'],
  ['an IAM Identity Center session (the permission set role; the person is the session)', {
    type: 'AssumedRole', principalId: 'AROAEXAMPLESSO1234567:alice@example.com',
    arn: `arn:aws:sts::${OWNER}:assumed-role/AWSReservedSSO_Admin_0123456789abcdef/alice@example.com`, accountId: OWNER,
    sessionContext: { sessionIssuer: {
      type: 'Role', principalId: 'AROAEXAMPLESSO1234567', accountId: OWNER, userName: 'AWSReservedSSO_Admin_0123456789abcdef',
      arn: `arn:aws:iam::${OWNER}:role/aws-reserved/sso.amazonaws.com/us-east-1/AWSReservedSSO_Admin_0123456789abcdef`,
    } },
  }, `arn:aws:iam::${OWNER}:role/aws-reserved/sso.amazonaws.com/us-east-1/AWSReservedSSO_Admin_0123456789abcdef`, 'alice@example.com'],
  ['a service-linked role', {
    type: 'AssumedRole', principalId: 'AROAEXAMPLESLR123456:AutoScaling', invokedBy: 'autoscaling.amazonaws.com',
    arn: `arn:aws:sts::${OWNER}:assumed-role/AWSServiceRoleForAutoScaling/AutoScaling`, accountId: OWNER,
    sessionContext: { sessionIssuer: {
      type: 'Role', principalId: 'AROAEXAMPLESLR123456', accountId: OWNER, userName: 'AWSServiceRoleForAutoScaling',
      arn: `arn:aws:iam::${OWNER}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling`,
    } },
  }, `arn:aws:iam::${OWNER}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling`, 'AutoScaling'],
  ['a web-identity session', {
    type: 'AssumedRole', principalId: 'AROAEXAMPLEWEB123456:botocore-session-1714550000',
    arn: `arn:aws:sts::${OWNER}:assumed-role/eks-pod-role/botocore-session-1714550000`, accountId: OWNER,
    sessionContext: {
      sessionIssuer: { type: 'Role', principalId: 'AROAEXAMPLEWEB123456', arn: `arn:aws:iam::${OWNER}:role/eks/eks-pod-role`, accountId: OWNER, userName: 'eks-pod-role' },
      webIdFederationData: { federatedProvider: `arn:aws:iam::${OWNER}:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE`, attributes: {} },
    },
  }, `arn:aws:iam::${OWNER}:role/eks/eks-pod-role`, 'botocore-session-1714550000'],
  ['an Identity Center user acting directly', {
    type: 'IdentityCenterUser', accountId: OWNER, credentialId: 'EXAMPLEcredentialId',
    onBehalfOf: { userId: '906a5b1c-0011-70d4-1234-example', identityStoreArn: `arn:aws:identitystore::${OWNER}:identitystore/d-1234567890` },
  }, `arn:aws:identitystore::${OWNER}:identitystore/d-1234567890/user/906a5b1c-0011-70d4-1234-example`, null],
  ['an AWS service', identity.service('cloudtrail.amazonaws.com'), 'cloudtrail.amazonaws.com', null],
  ['KMS itself', identity.kmsInternal(OWNER), 'AWS Internal', null],
];
const shapeRecords = SHAPES.map(([, who]) => decrypt(who, at(0, 10)));
let shapes: Promise<Map<string, Row>> | undefined;
const shapeRows = () => (shapes ??= (async () => {
  const trail = await loadTrail(shapeRecords);
  try {
    const rows = await sql<Row & { event_id: string }>(trail.db, 'SELECT event_id, identity_arn, session_name, principal_type FROM kms_events');
    expect(rows).toHaveLength(SHAPES.length);
    return new Map(rows.map((r) => [r.event_id, r]));
  } finally {
    trail.cleanup();
  }
})());

describe('callers', () => {
  it('names a cross-account role by account and unique id, never by session, when its trail is not ingested', async () => {
    const rows = await identities([decrypt(crossAccount('s-1'), at(0, 10)), decrypt(crossAccount('s-2'), at(0, 11))]);
    expect(rows.map((r) => r.identity_arn)).toEqual([`arn:aws:iam::${OTHER}:unknown/${ROLE_ID}`, `arn:aws:iam::${OTHER}:unknown/${ROLE_ID}`]);
    expect(rows.map((r) => r.session_name)).toEqual(['s-1', 's-2']);
  });

  it('resolves a cross-account role to its ARN, path included, when its own trail is ingested too', async () => {
    const theirs = { ...kmsEvent({ eventName: 'ListAliases', time: at(0, 9), identity: ownSession('s-0'), key: null, account: OTHER }) };
    const rows = await identities([decrypt(crossAccount('s-1'), at(0, 10)), decrypt(crossAccount('s-2'), at(0, 11)), theirs]);
    expect(rows.map((r) => r.identity_arn)).toEqual([ROLE_ARN, ROLE_ARN, ROLE_ARN]);
  });

  it('resolves callers loaded before the directory learned them, in a later run', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const db = join(dir, 'kt.duckdb');
      writeTrail(join(dir, 'owner'), [decrypt(crossAccount('s-1'), at(0, 10))]);
      await ingestFolder(join(dir, 'owner'), db);
      expect(await sql(db, 'SELECT identity_arn FROM kms_events')).toEqual([{ identity_arn: `arn:aws:iam::${OTHER}:unknown/${ROLE_ID}` }]);
      // The caller's own account's trail: any service's record teaches the directory.
      const ec2 = { ...decrypt(ownSession('s-9'), at(1, 8)), eventSource: 'ec2.amazonaws.com', eventName: 'DescribeInstances', recipientAccountId: OTHER };
      writeTrail(join(dir, 'other'), [ec2]);
      await ingestFolder(join(dir, 'other'), db);
      expect(await sql(db, 'SELECT identity_arn FROM kms_events')).toEqual([{ identity_arn: ROLE_ARN }]);
      expect(await sql(db, 'SELECT unique_id, arn, account_id FROM principals')).toEqual([{ unique_id: ROLE_ID, arn: ROLE_ARN, account_id: OTHER }]);
    } finally {
      cleanup();
    }
  });

  it('gives an assumed role without sessionIssuer its ARN with the path when the directory knows it', async () => {
    const bare = { ...ownSession('s-2') };
    delete bare.sessionContext;
    const known = await identities([decrypt(ownSession('s-1'), at(0, 9), { recipientAccountId: OTHER }), decrypt(bare, at(0, 10))]);
    expect(known.map((r) => r.identity_arn)).toEqual([ROLE_ARN, ROLE_ARN]);
    const unknown = await identities([decrypt(bare, at(0, 10))]);
    expect(unknown.map((r) => r.identity_arn)).toEqual([`arn:aws:iam::${OTHER}:role/AppRole`]);
  });

  it.each(SHAPES.map((shape, i) => [...shape, i] as const))('names %s', async (_, _who, expected, session, i) => {
    const row = (await shapeRows()).get(String(shapeRecords[i].eventID));
    expect(row, 'its record is in kms_events').toBeDefined();
    expect(row!.identity_arn).toBe(expected);
    expect(row!.session_name).toBe(session);
  });
});

describe('records', () => {
  it('refuses an eventTime that is no real date, quarantining the record, and keeps the rest', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const db = join(dir, 'kt.duckdb');
      const good = decrypt(identity.user(OWNER, 'alice'), '2024-02-28T10:00:00Z');
      const feb31 = { ...decrypt(identity.user(OWNER, 'alice'), '2024-02-28T10:00:00Z'), eventTime: '2024-02-31T10:00:00Z' };
      const nameless = { ...decrypt(identity.user(OWNER, 'alice'), '2024-02-28T10:00:00Z') };
      delete nameless.eventName;
      writeLogObject(join(dir, 'trail'), logObjectKey(OWNER, 'us-east-1', '2024-02-28T10:05:00Z'), [good, feb31, nameless]);
      const summary = await ingestFolder(join(dir, 'trail'), db);
      expect(summary.quarantined).toHaveLength(1);
      expect(summary.quarantined[0].error).toBe(
        `2 unreadable record(s): record 2 (eventID ${feb31.eventID}): eventTime "2024-02-31T10:00:00Z" is not a timestamp; ` +
          `record 3 (eventID ${nameless.eventID}): eventName is missing`,
      );
      expect(await sql(db, "SELECT event_id, strftime(event_time, '%Y-%m-%d %H:%M:%S') AS t FROM kms_events")).toEqual([
        { event_id: good.eventID, t: '2024-02-28 10:00:00' },
      ]);
    } finally {
      cleanup();
    }
  });

  it('reads eventTime with fractions, offsets or no zone as UTC', async () => {
    const times = ['2024-05-01T10:00:00.123Z', '2024-05-01T12:00:00+02:00', '2024-05-01 10:00:00'];
    const trail = await loadTrail(times.map((t) => ({ ...decrypt(identity.user(OWNER, 'a'), '2024-05-01T10:00:00Z'), eventTime: t })));
    try {
      const rows = await sql<{ t: string }>(trail.db, "SELECT strftime(event_time, '%Y-%m-%d %H:%M:%S.%g') AS t FROM kms_events ORDER BY 1");
      expect(rows.map((r) => r.t)).toEqual(['2024-05-01 10:00:00.000', '2024-05-01 10:00:00.000', '2024-05-01 10:00:00.123']);
    } finally {
      trail.cleanup();
    }
  });

  it('reads odd types without failing: a string where an object belongs, a number as text, readOnly as text', async () => {
    const odd = {
      ...decrypt(identity.user(OWNER, 'a'), at(0, 10)),
      readOnly: 'true', recipientAccountId: 111122223333, requestParameters: 'a string',
      userIdentity: { type: 'AssumedRole', arn: `arn:aws:sts::${OWNER}:assumed-role/R/s`, sessionContext: "{'sessionIssuer': 'python repr'}" },
    };
    const trail = await loadTrail([odd]);
    try {
      expect(await sql(trail.db, 'SELECT read_only, account_id, identity_arn, request_parameters FROM kms_events')).toEqual([
        { read_only: true, account_id: OWNER, identity_arn: `arn:aws:iam::${OWNER}:role/R`, request_parameters: 'a string' },
      ]);
    } finally {
      trail.cleanup();
    }
  });

  it('finds the key in resources, an ARN keyId, or a bare key id of the caller account; an alias is no key', async () => {
    const other = 'arn:aws:kms:eu-west-1:999999999999:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const call = (i: number, params: unknown, resources: unknown = []) =>
      ({ ...decrypt(identity.user(OWNER, 'a'), at(0, 10, i)), requestParameters: params, resources });
    const trail = await loadTrail([
      call(0, null, [{ ARN: KEY, type: 'AWS::KMS::Key' }]),
      call(1, { keyId: other }),
      call(2, { keyId: 'mrk-1234abcd12ab34cd56ef1234567890ab' }),
      call(3, { keyId: 'alias/app' }),
      call(4, null, [{ ARN: `arn:aws:kms:us-east-1:${OWNER}:alias/app` }]),
    ]);
    try {
      expect(await sql(trail.db, 'SELECT key_arn, key_id, key_account FROM kms_events ORDER BY event_time')).toEqual([
        { key_arn: KEY, key_id: '1234abcd-12ab-34cd-56ef-1234567890ab', key_account: OWNER },
        { key_arn: other, key_id: '1234abcd-12ab-34cd-56ef-1234567890ab', key_account: '999999999999' },
        { key_arn: `arn:aws:kms:us-east-1:${OWNER}:key/mrk-1234abcd12ab34cd56ef1234567890ab`, key_id: 'mrk-1234abcd12ab34cd56ef1234567890ab', key_account: OWNER },
        { key_arn: null, key_id: null, key_account: null },
        { key_arn: null, key_id: null, key_account: null },
      ]);
    } finally {
      trail.cleanup();
    }
  });
});
