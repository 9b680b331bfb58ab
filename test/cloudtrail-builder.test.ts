// The record builders (scripts/cloudtrail): the same seed gives the same records, and each family
// has the fields AWS's own logged examples have (test/fixtures/datasets: KMS Developer Guide,
// Stratus Red Team detonations).
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  assumedRole, awsAccount, awsService, directCall, federatedUser, iamUser, identityCenterUser, keyArn, kmsCreateCustomKeyStore,
  kmsCreateGrant, kmsCreateKey, kmsDecrypt, kmsDeleteImportedKeyMaterial, kmsEncrypt, kmsGetParametersForImport, kmsImportKeyMaterial,
  kmsPutKeyPolicy, defaultKeyPolicy, root, s3ObjectCall, seededIds, trailDelete, trailPutEventSelectors, trailStopLogging, trailUpdate,
  viaService, xksEventData, SELECTOR_WITHOUT_KMS, type CtRecord, type KmsContext,
} from '../scripts/cloudtrail/index.js';

const DATASETS = join(import.meta.dirname, 'fixtures', 'datasets');
type Doc = Record<string, unknown> & { requestParameters: Record<string, unknown> | null; responseElements: Record<string, unknown> | null };
const kmsDocs = readFileSync(join(DATASETS, 'awsdocs-kms-developer-guide', 'kms-cloudtrail-examples.jsonl'), 'utf8')
  .split('\n').filter(Boolean).map((l) => JSON.parse(l) as Doc);
const docNamed = (name: string, where: (d: Doc) => boolean = () => true): Doc => {
  const d = kmsDocs.find((x) => x.eventName === name && where(x));
  if (!d) throw new Error(`no documented ${name}`);
  return d;
};
const stratus = (file: string, name: string): Doc => {
  const recs = JSON.parse(readFileSync(join(DATASETS, 'stratus-red-team-detonation-logs', file), 'utf8')) as Doc[] | { Records: Doc[] };
  const d = (Array.isArray(recs) ? recs : recs.Records).find((r) => r.eventName === name);
  if (!d) throw new Error(`no ${name} in ${file}`);
  return d;
};
/** The record as it is written (undefined fields dropped). */
const written = (r: CtRecord): Doc => JSON.parse(JSON.stringify(r)) as Doc;
const keys = (o: unknown): string[] => Object.keys((o ?? {}) as object).sort();

const A = '111122223333';
const KEY = { arn: keyArn(A, '1234abcd-12ab-34cd-56ef-1234567890ab', 'us-west-2'), alias: 'alias/example' };
const alice = iamUser({ account: A, name: 'Alice' });
const ctx = (seed: number | string, o: Partial<KmsContext> = {}): KmsContext => ({
  ids: seededIds(seed), time: '2024-05-01T10:00:00Z', caller: directCall(alice, '192.0.2.0', 'aws-cli/2.15.30'), ...o,
});

describe('record builders', () => {
  it('give the same records for the same seed and other ids for another', () => {
    const build = (seed: string) => [kmsDecrypt(ctx(seed), KEY), kmsCreateGrant(ctx(seed), KEY, { granteePrincipal: `arn:aws:iam::${A}:role/x`, operations: ['Decrypt'] })];
    expect(build('a')).toEqual(build('a'));
    const [x, y] = [build('a'), build('b')];
    expect(x[0]!.eventID).not.toBe(y[0]!.eventID);
    expect(x[0]!.eventID).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // one source gives distinct ids record after record
    const ids = seededIds(1);
    const many = Array.from({ length: 200 }, () => kmsDecrypt({ ...ctx(0), ids }, KEY).eventID);
    expect(new Set(many).size).toBe(200);
  });

  it('write the key-management records with the documented fields', () => {
    const t = Date.UTC(2024, 4, 1, 10);
    const cases: [CtRecord, Doc][] = [
      [kmsCreateKey(ctx(1, { time: t }), KEY, { description: '', origin: 'EXTERNAL' }), docNamed('CreateKey', (d) => d.requestParameters?.origin === 'EXTERNAL')],
      [kmsCreateKey(ctx(1, { time: t }), KEY, { description: '', origin: 'EXTERNAL_KEY_STORE', tags: [], customKeyStoreId: 'cks-1234567890abcdef0', xksKeyId: 'bb8562717f809024' }),
        docNamed('CreateKey', (d) => d.requestParameters?.origin === 'EXTERNAL_KEY_STORE')],
      [kmsGetParametersForImport(ctx(1), KEY), docNamed('GetParametersForImport')],
      [kmsImportKeyMaterial(ctx(1), KEY, t + 86_400_000), docNamed('ImportKeyMaterial')],
      [kmsCreateGrant(ctx(1), KEY, { granteePrincipal: 'EX_PRINCIPAL_ID', operations: ['Encrypt', 'RetireGrant'], constraints: { encryptionContextSubset: { k: 'v' } } }), docNamed('CreateGrant')],
      [kmsPutKeyPolicy(ctx(1), KEY, defaultKeyPolicy(A)), docNamed('PutKeyPolicy')],
      [kmsCreateCustomKeyStore(ctx(1, { region: 'us-east-1', account: A }), { name: 'ExampleKeyStore', type: 'AWS_CLOUDHSM', clusterId: 'cluster-1a23b4cdefg' }), docNamed('CreateCustomKeyStore')],
    ];
    for (const [built, doc] of cases) {
      const r = written(built);
      expect(r.eventName).toBe(doc.eventName);
      expect(r.readOnly, String(doc.eventName)).toBe(doc.readOnly);
      expect(r.eventType).toBe(doc.eventType);
      // every documented request / response field is there, and no field of another shape
      expect(keys(r.requestParameters), String(doc.eventName)).toEqual(expect.arrayContaining(keys(doc.requestParameters)));
      expect(keys(r.responseElements)).toEqual(expect.arrayContaining(keys(doc.responseElements)));
      expect(keys(r.resources)).toEqual(keys(doc.resources));
    }
    const xks = written(cases[1]![0]).responseElements as { keyMetadata: object };
    const docXks = docNamed('CreateKey', (d) => d.requestParameters?.origin === 'EXTERNAL_KEY_STORE').responseElements as { keyMetadata: object };
    expect(keys(xks.keyMetadata)).toEqual(keys(docXks.keyMetadata));
    expect((written(cases[0]![0]).responseElements as { keyMetadata: { keyState: string; enabled: boolean } }).keyMetadata).toMatchObject({ keyState: 'PendingImport', enabled: false });
    expect(written(kmsDeleteImportedKeyMaterial(ctx(1), KEY))).toMatchObject({ eventName: 'DeleteImportedKeyMaterial', readOnly: false, requestParameters: { keyId: '1234abcd-12ab-34cd-56ef-1234567890ab' } });
  });

  it('write crypto calls with the encryption context, errors and XKS data as logged', () => {
    const doc = docNamed('Decrypt', (d) => d.errorCode === 'KMSInvalidStateException');
    const r = written(kmsDecrypt(ctx(2, { encryptionContext: { Department: 'Engineering' }, error: [doc.errorCode as string, doc.errorMessage as string] }), KEY, { additionalEventData: xksEventData('cks-9876543210fedcba9', 'abc01234567890fe') }));
    expect(r).toMatchObject({ errorCode: 'KMSInvalidStateException', additionalEventData: doc.additionalEventData, requestParameters: { encryptionContext: { Department: 'Engineering' } } });
    const denied = written(kmsEncrypt(ctx(2, { denied: true }), KEY));
    expect(denied.errorCode).toBe('AccessDenied');
    expect(denied.errorMessage).toMatch(new RegExp(`^User: ${alice.arn} is not authorized to perform: kms:Encrypt on`));
    expect((denied.requestParameters as { keyId: string }).keyId).toBe('alias/example');
    // a call S3 made for a role: invokedBy and the service as source, no TLS details
    const role = assumedRole({ account: A, name: 'App' }, 's1', { time: '2024-05-01T10:00:00Z' });
    const viaS3 = written(kmsDecrypt(ctx(3, { caller: viaService(role, 's3.amazonaws.com') }), KEY));
    expect(viaS3).toMatchObject({ sourceIPAddress: 's3.amazonaws.com', userAgent: 's3.amazonaws.com', userIdentity: { invokedBy: 's3.amazonaws.com', type: 'AssumedRole' } });
    expect(viaS3.tlsDetails).toBeUndefined();
  });

  it('write the trail-blinding CloudTrail events as logged', () => {
    const trail = { account: A, region: 'us-east-1', name: 'management-events' };
    const ids = seededIds('trail');
    const x = { ids, time: '2024-05-01T10:00:00Z', caller: directCall(alice, '192.0.2.0', 'aws-cli/2') };
    const cases: [CtRecord, Doc][] = [
      [trailStopLogging(x, trail), stratus('aws.defense-evasion.cloudtrail-stop.json', 'StopLogging')],
      [trailDelete(x, trail), stratus('aws.defense-evasion.cloudtrail-delete.json', 'DeleteTrail')],
      [trailPutEventSelectors(x, trail, [{ ...SELECTOR_WITHOUT_KMS, includeManagementEvents: false }]), stratus('aws.defense-evasion.cloudtrail-event-selectors.json', 'PutEventSelectors')],
    ];
    for (const [built, doc] of cases) {
      const r = written(built);
      expect(keys(r).filter((k) => k !== 'userIdentity')).toEqual(keys(doc).filter((k) => k !== 'userIdentity'));
      expect(keys(r.requestParameters)).toEqual(keys(doc.requestParameters));
      expect(keys(r.responseElements)).toEqual(keys(doc.responseElements));
    }
    const adv = written(trailPutEventSelectors(x, trail, { advanced: [{ name: 'no KMS', fieldSelectors: [{ field: 'eventCategory', equals: ['Management'] }, { field: 'eventSource', notEquals: ['kms.amazonaws.com'] }] }] }));
    expect(adv.requestParameters).toMatchObject({ trailName: 'management-events', advancedEventSelectors: [{ fieldSelectors: [{ field: 'eventCategory' }, { field: 'eventSource', notEquals: ['kms.amazonaws.com'] }] }] });
    expect(adv.responseElements).toMatchObject({ trailARN: `arn:aws:cloudtrail:us-east-1:${A}:trail/management-events` });
    const upd = written(trailUpdate(x, trail, { enableLogFileValidation: false }, { s3BucketName: 'logs', enableLogFileValidation: false }));
    expect(upd).toMatchObject({ eventName: 'UpdateTrail', readOnly: false, requestParameters: { name: 'management-events', enableLogFileValidation: false }, responseElements: { logFileValidationEnabled: false } });
  });

  it('write the userIdentity shapes CloudTrail documents', () => {
    const docUser = docNamed('Decrypt', (d) => (d.userIdentity as { type?: string }).type === 'IAMUser').userIdentity;
    expect(keys(JSON.parse(JSON.stringify(alice)))).toEqual(keys(docUser));
    const role = assumedRole({ account: A, name: 'Dev' }, 'me', { time: Date.UTC(2024, 4, 1, 10, 30) });
    expect(role).toMatchObject({ type: 'AssumedRole', arn: `arn:aws:sts::${A}:assumed-role/Dev/me`, sessionContext: { sessionIssuer: { type: 'Role', arn: `arn:aws:iam::${A}:role/Dev` } } });
    expect((role.principalId ?? '').startsWith((role.sessionContext as { sessionIssuer: { principalId: string } }).sessionIssuer.principalId + ':')).toBe(true);
    // the same principal always has the same ids
    expect(assumedRole({ account: A, name: 'Dev' }, 'me', { time: Date.UTC(2024, 4, 1, 10, 50) })).toEqual(role);
    expect(root(A)).toEqual({ type: 'Root', principalId: A, arn: `arn:aws:iam::${A}:root`, accountId: A });
    expect(awsService('cloudtrail.amazonaws.com')).toEqual({ type: 'AWSService', invokedBy: 'cloudtrail.amazonaws.com' });
    expect(awsAccount('444455556666')).toMatchObject({ type: 'AWSAccount', accountId: '444455556666' });
    expect(federatedUser({ account: A, name: 'admin' }, 'bob')).toMatchObject({
      type: 'FederatedUser', arn: `arn:aws:sts::${A}:federated-user/bob`, principalId: `${A}:bob`, sessionContext: { sessionIssuer: { type: 'IAMUser', userName: 'admin' } },
    });
    expect(identityCenterUser(A, 'u-1', 'd-9067642ac7')).toMatchObject({
      type: 'IdentityCenterUser', accountId: A, onBehalfOf: { userId: 'u-1', identityStoreArn: `arn:aws:identitystore::${A}:identitystore/d-9067642ac7` },
    });
  });

  it('write S3 object calls as data events', () => {
    const r = written(s3ObjectCall({ ids: seededIds(4), time: 0, caller: directCall(alice, '192.0.2.0', 'aws-cli/2'), region: 'us-east-1', account: A }, { eventName: 'PutObject', bucket: 'b', key: 'k', sseKms: true, bytes: 10 }));
    expect(r).toMatchObject({ eventSource: 's3.amazonaws.com', eventCategory: 'Data', managementEvent: false, readOnly: false, requestParameters: { 'x-amz-server-side-encryption': 'aws:kms' } });
  });
});
