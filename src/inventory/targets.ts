// Which accounts and regions an audit reads, and the AWS clients for them. Accounts: the credential
// chain's own (STS GetCallerIdentity), or one per --role-arn (STS AssumeRole). Regions: --regions,
// else every region enabled for the account (Account ListRegions), else the credential chain's region.
// Every client has the SDK's adaptive retry with up to 8 attempts, so KMS throttling slows the run
// down instead of failing it; AWS_RETRY_MODE and AWS_MAX_ATTEMPTS, the SDK's own settings, decide
// when they are set (as AWS_MAX_ATTEMPTS does for S3 in src/source/s3.ts).

import { AccountClient, ListRegionsCommand } from '@aws-sdk/client-account';
import { AccessAnalyzerClient } from '@aws-sdk/client-accessanalyzer';
import { IAMClient } from '@aws-sdk/client-iam';
import { KMSClient } from '@aws-sdk/client-kms';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { callError, type CallError } from './client.js';

/** Temporary credentials as STS returns them (the SDK's AwsCredentialIdentity shape). */
export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

export interface ConnectOptions {
  /** --endpoint-url: one endpoint for KMS, STS, Account, IAM and Access Analyzer (a local or compatible stack). */
  endpointUrl?: string;
  profile?: string;
}

export interface Target {
  /** null until KMS answers, when the endpoint has no STS to ask (a KMS-only compatible endpoint). */
  account: string | null;
  /** Where the credentials come from: 'credential chain' or the role ARN. */
  via: string;
  /** Temporary credentials of an assumed role; undefined: the credential chain. */
  credentials?: Credentials;
  regions: string[];
  /** How the regions were chosen, for the user. */
  regionsFrom: 'option' | 'ListRegions' | 'credential chain';
}

/** A --role-arn that could not be assumed, or an account whose regions are unknown. */
export interface TargetFailure {
  account: string | null;
  via: string;
  error: CallError;
}

/** No region anywhere: bad usage (exit 2), not a failure of AWS. */
export class NoRegionError extends Error {}

type Config = { region?: string; endpoint?: string; profile?: string; credentials?: Credentials; retryMode?: string; maxAttempts?: number };

function config(options: ConnectOptions, region: string | undefined, credentials?: Credentials): Config {
  return {
    ...(region ? { region } : {}),
    ...(options.endpointUrl ? { endpoint: options.endpointUrl } : {}),
    ...(options.profile && !credentials ? { profile: options.profile } : {}),
    ...(credentials ? { credentials } : {}),
    // undefined: the SDK reads its own setting from the environment.
    ...(process.env.AWS_RETRY_MODE ? {} : { retryMode: 'adaptive' }),
    ...(process.env.AWS_MAX_ATTEMPTS ? {} : { maxAttempts: 8 }),
  };
}

export function kmsClient(options: ConnectOptions, target: Target, region: string): KMSClient {
  return new KMSClient(config(options, region, target.credentials));
}

/** IAM is global: any region of the account's partition reaches it (and signs for us-east-1 there). */
export function iamClient(options: ConnectOptions, target: Target, region: string): IAMClient {
  return new IAMClient(config(options, region, target.credentials));
}

export function analyzerClient(options: ConnectOptions, target: Target, region: string): AccessAnalyzerClient {
  return new AccessAnalyzerClient(config(options, region, target.credentials));
}

/** The credential chain's region, or null when none is configured. */
export async function chainRegion(options: ConnectOptions): Promise<string | null> {
  const sts = new STSClient(config(options, undefined));
  try {
    return (await sts.config.region()) || null;
  } catch {
    return null;
  } finally {
    sts.destroy();
  }
}

export async function resolveTargets(
  options: ConnectOptions & { roleArns: string[]; regions: string[] | null },
): Promise<{ targets: Target[]; failures: TargetFailure[] }> {
  const home = await chainRegion(options);
  const sts = new STSClient(config(options, home ?? 'us-east-1'));
  const targets: Target[] = [];
  const failures: TargetFailure[] = [];
  try {
    const accounts: Array<Omit<Target, 'regions' | 'regionsFrom'>> = [];
    if (options.roleArns.length === 0) accounts.push({ account: await callerAccount(sts), via: 'credential chain' });
    for (const role of options.roleArns) {
      try {
        const r = await sts.send(new AssumeRoleCommand({ RoleArn: role, RoleSessionName: 'keytrail-keys-audit', DurationSeconds: 3600 }));
        const c = r.Credentials!;
        accounts.push({
          account: role.split(':')[4],
          via: role,
          credentials: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken, expiration: c.Expiration },
        });
      } catch (err) {
        failures.push({ account: role.split(':')[4] ?? null, via: role, error: callError('AssumeRole', err) });
      }
    }
    for (const a of accounts) {
      if (options.regions) {
        targets.push({ ...a, regions: options.regions, regionsFrom: 'option' });
        continue;
      }
      const listed = await enabledRegions(options, a, home);
      if (listed) targets.push({ ...a, regions: listed, regionsFrom: 'ListRegions' });
      else if (home) targets.push({ ...a, regions: [home], regionsFrom: 'credential chain' });
      else throw new NoRegionError(`account ${a.account ?? '(unknown)'}: its enabled regions cannot be listed and no region is configured: pass --regions or set AWS_REGION`);
    }
  } finally {
    sts.destroy();
  }
  return { targets, failures };
}

/** Credentials that AWS refuses: the audit cannot start. */
const REFUSED = new Set(['CredentialsProviderError', 'SignatureDoesNotMatch', 'InvalidClientTokenId', 'ExpiredToken', 'ExpiredTokenException', 'UnrecognizedClientException']);

/** The credential chain's account (STS GetCallerIdentity); null when the endpoint has no STS. */
async function callerAccount(sts: STSClient): Promise<string | null> {
  try {
    return (await sts.send(new GetCallerIdentityCommand({}))).Account ?? null;
  } catch (err) {
    if (REFUSED.has((err as Error).name)) throw err;
    return null;
  }
}

/** The account's enabled regions, or null when they cannot be listed (no permission, no such API). */
async function enabledRegions(options: ConnectOptions, a: Omit<Target, 'regions' | 'regionsFrom'>, home: string | null): Promise<string[] | null> {
  const client = new AccountClient(config(options, home ?? 'us-east-1', a.credentials));
  try {
    const regions: string[] = [];
    let NextToken: string | undefined;
    do {
      const r = await client.send(new ListRegionsCommand({ RegionOptStatusContains: ['ENABLED', 'ENABLED_BY_DEFAULT'], MaxResults: 50, NextToken }));
      regions.push(...(r.Regions ?? []).map((x) => x.RegionName!).filter(Boolean));
      NextToken = r.NextToken;
    } while (NextToken);
    return regions.length > 0 ? regions.sort() : null;
  } catch {
    return null;
  } finally {
    client.destroy();
  }
}
