// Reads one account's keys in one region through the KMS API: ListKeys and ListAliases to the end,
// then per key DescribeKey, GetKeyPolicy, GetKeyRotationStatus, ListGrants and ListResourceTags,
// at most `concurrency` calls in flight. A call that fails for one key is recorded with KMS's error
// and the key is still audited on what could be read; throttling is retried by the SDK (adaptive).

import {
  DescribeKeyCommand, GetKeyPolicyCommand, GetKeyRotationStatusCommand, KMSClient, ListAliasesCommand, ListGrantsCommand,
  ListKeysCommand, ListResourceTagsCommand, type AliasListEntry, type GrantListEntry, type KeyMetadata, type Tag,
} from '@aws-sdk/client-kms';
import pLimit from 'p-limit';

export interface CallError {
  operation: string;
  code: string;
  message: string;
}

export interface Rotation {
  /** false: KMS answered UnsupportedOperationException (asymmetric, HMAC, imported, custom key store). */
  supported: boolean;
  enabled: boolean | null;
  periodDays: number | null;
  nextRotation: Date | null;
}

export interface KeyRead {
  keyArn: string;
  keyId: string;
  metadata: KeyMetadata | null;
  policy: string | null;
  rotation: Rotation | null;
  grants: GrantListEntry[];
  tags: Tag[];
  /** The calls that failed for this key; empty when everything was read. */
  errors: CallError[];
}

export interface ScopeRead {
  account: string;
  region: string;
  /** 'failed' when the keys or aliases could not be listed to the end: then `keys` says nothing. */
  status: 'ok' | 'failed';
  error: CallError | null;
  keys: KeyRead[];
  aliases: AliasListEntry[];
}

/** Pages of a KMS list operation, to the end: Marker in, NextMarker / Truncated out. */
async function listAll<T>(fetch: (marker: string | undefined) => Promise<{ items: T[] | undefined; next: string | undefined; truncated: boolean | undefined }>): Promise<T[]> {
  const out: T[] = [];
  let marker: string | undefined;
  for (;;) {
    const page = await fetch(marker);
    out.push(...(page.items ?? []));
    if (!page.truncated || !page.next) return out;
    marker = page.next;
  }
}

export function callError(operation: string, err: unknown): CallError {
  const e = err as { name?: string; Code?: string; message?: string };
  return { operation, code: e.name ?? e.Code ?? 'Error', message: e.message ?? String(err) };
}

export async function readScope(kms: KMSClient, account: string, region: string, concurrency: number): Promise<ScopeRead> {
  const limit = pLimit(concurrency);
  let keys: Array<{ KeyId?: string; KeyArn?: string }>;
  let aliases: AliasListEntry[];
  try {
    [keys, aliases] = await Promise.all([
      listAll(async (Marker) => {
        const r = await kms.send(new ListKeysCommand({ Limit: 1000, Marker }));
        return { items: r.Keys, next: r.NextMarker, truncated: r.Truncated };
      }),
      listAll(async (Marker) => {
        const r = await kms.send(new ListAliasesCommand({ Limit: 100, Marker }));
        return { items: r.Aliases, next: r.NextMarker, truncated: r.Truncated };
      }),
    ]);
  } catch (err) {
    return { account, region, status: 'failed', error: callError('ListKeys/ListAliases', err), keys: [], aliases: [] };
  }
  const read = await Promise.all(
    keys.filter((k) => k.KeyArn && k.KeyId).map((k) => readKey(kms, k.KeyArn!, k.KeyId!, limit)),
  );
  return { account, region, status: 'ok', error: null, keys: read, aliases };
}

async function readKey(kms: KMSClient, keyArn: string, keyId: string, limit: ReturnType<typeof pLimit>): Promise<KeyRead> {
  const key: KeyRead = { keyArn, keyId, metadata: null, policy: null, rotation: null, grants: [], tags: [], errors: [] };
  const attempt = async (operation: string, work: () => Promise<void>): Promise<void> => {
    try {
      await limit(work);
    } catch (err) {
      key.errors.push(callError(operation, err));
    }
  };
  await Promise.all([
    attempt('DescribeKey', async () => {
      key.metadata = (await kms.send(new DescribeKeyCommand({ KeyId: keyArn }))).KeyMetadata ?? null;
    }),
    attempt('GetKeyPolicy', async () => {
      key.policy = (await kms.send(new GetKeyPolicyCommand({ KeyId: keyArn, PolicyName: 'default' }))).Policy ?? null;
    }),
    attempt('GetKeyRotationStatus', async () => {
      try {
        const r = await kms.send(new GetKeyRotationStatusCommand({ KeyId: keyArn }));
        key.rotation = { supported: true, enabled: r.KeyRotationEnabled ?? null, periodDays: r.RotationPeriodInDays ?? null, nextRotation: r.NextRotationDate ?? null };
      } catch (err) {
        // An answer, not a failure: this kind of key has no automatic rotation.
        if ((err as Error).name !== 'UnsupportedOperationException') throw err;
        key.rotation = { supported: false, enabled: null, periodDays: null, nextRotation: null };
      }
    }),
    attempt('ListGrants', async () => {
      key.grants = await listAll(async (Marker) => {
        const r = await kms.send(new ListGrantsCommand({ KeyId: keyArn, Limit: 100, Marker }));
        return { items: r.Grants, next: r.NextMarker, truncated: r.Truncated };
      });
    }),
    attempt('ListResourceTags', async () => {
      key.tags = await listAll(async (Marker) => {
        const r = await kms.send(new ListResourceTagsCommand({ KeyId: keyArn, Limit: 50, Marker }));
        return { items: r.Tags, next: r.NextMarker, truncated: r.Truncated };
      });
    }),
  ]);
  key.errors.sort((a, b) => a.operation.localeCompare(b.operation));
  return key;
}
