// The zone of trust detections measure against: --trusted-accounts, a config file, or by default
// the accounts that own the trail's data (the recipientAccountId values).

import { readFileSync } from 'node:fs';
import type { QueryEngine } from '../engine.js';
import type { Trust } from './analyze.js';

/** A bad --trusted-accounts value or config file: exit code 2. */
export class TrustError extends Error {}

export interface TrustConfig {
  trustedAccounts?: string[];
  trustedOrgIds?: string[];
}

const ACCOUNT_RE = /^\d{12}$/;
const ORG_RE = /^o-[a-z0-9]{10,32}$/;

/** '111111111111,222222222222' -> the ids, checked. */
export function parseAccountList(text: string, name = '--trusted-accounts'): string[] {
  const ids = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const id of ids) if (!ACCOUNT_RE.test(id)) throw new TrustError(`${name}: '${id}' is not a 12-digit AWS account id`);
  if (ids.length === 0) throw new TrustError(`${name}: no account ids given`);
  return [...new Set(ids)];
}

/** The config file's fields: the trust settings read here, and detect's notification settings (src/notify/config.ts). */
const KNOWN_FIELDS = ['trustedAccounts', 'trustedOrgIds', 'notify', 'notifySecret', 'notifyMinSeverity', 'notifyRetrySeconds'];

/** Reads {"trustedAccounts": [...], "trustedOrgIds": [...]} (both optional). */
export function loadTrustConfig(path: string): TrustConfig {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new TrustError(`--config ${path}: ${(err as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new TrustError(`--config ${path}: expected a JSON object`);
  const obj = doc as Record<string, unknown>;
  const unknown = Object.keys(obj).filter((k) => !KNOWN_FIELDS.includes(k));
  if (unknown.length > 0) throw new TrustError(`--config ${path}: unknown field(s) ${unknown.join(', ')} (known: ${KNOWN_FIELDS.join(', ')})`);
  const list = (field: string, re: RegExp, what: string): string[] | undefined => {
    const v = obj[field];
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string' && re.test(x))) {
      throw new TrustError(`--config ${path}: ${field} must be an array of ${what}`);
    }
    return [...new Set(v as string[])];
  };
  return {
    trustedAccounts: list('trustedAccounts', ACCOUNT_RE, '12-digit account ids'),
    trustedOrgIds: list('trustedOrgIds', ORG_RE, 'organization ids (o-...)'),
  };
}

/** The accounts whose trails are in the data: distinct recipientAccountId values. */
export async function dataAccounts(engine: QueryEngine): Promise<string[]> {
  const rows = await engine.query('SELECT DISTINCT account_id FROM kms_events WHERE account_id IS NOT NULL ORDER BY account_id');
  return rows.map((r) => String(r.account_id));
}

export interface ResolvedTrust extends Trust {
  /** Where the accounts came from, for the user. */
  accountsFrom: 'option' | 'config' | 'data';
}

/** --trusted-accounts wins over the config file, which wins over the data's own accounts. */
export async function resolveTrust(engine: QueryEngine, option: string[] | null, config: TrustConfig | null): Promise<ResolvedTrust> {
  const trustedOrgIds = config?.trustedOrgIds ?? [];
  if (option) return { trustedAccounts: option, trustedOrgIds, accountsFrom: 'option' };
  if (config?.trustedAccounts) return { trustedAccounts: config.trustedAccounts, trustedOrgIds, accountsFrom: 'config' };
  return { trustedAccounts: await dataAccounts(engine), trustedOrgIds, accountsFrom: 'data' };
}
