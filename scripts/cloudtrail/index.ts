// CloudTrail record builders: one import for the sample generator, the benchmark and the tests.
//
//   const ids = seededIds('my-test');                       // same seed, same requestIDs / eventIDs
//   const caller = directCall(assumedRole({ account, name: 'App' }, 'job', { time }), '203.0.113.7', 'aws-cli/2');
//   kmsEncrypt({ ids, time, caller, encryptionContext: { tenant: 't1' } }, { arn: keyArn(account, id) });
//   trailPutEventSelectors({ ids, time, caller }, { account, region, name }, [SELECTOR_WITHOUT_KMS]);
//
// Families: identities.ts (userIdentity shapes), kms.ts (crypto calls, key management, custom key
// stores, KMS's own events), trail-events.ts (CloudTrail calls on a trail), records.ts (the record
// itself, callers, S3 / STS / EC2 / IAM / sign-in / Secrets Manager background); digest-signing.ts
// signs digest files as CloudTrail does.
export * from './rng.js';
export * from './time.js';
export * from './identities.js';
export * from './records.js';
export * from './kms.js';
export * from './trail-events.js';
export * from './digest-signing.js';
