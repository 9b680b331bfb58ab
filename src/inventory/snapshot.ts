// Stores one audit run as a snapshot (schemas/duckdb/40_inventory.sql), in one transaction: the next
// run compares itself with it, and a run killed half-way leaves nothing behind. Who may use each key
// (src/kms/access.ts) is worked out here, from what the run read, and stored with it.

import { flattenStatements, keyAccess } from '../kms/access.js';
import type { Store } from '../store/db.js';
import type { CallError, ScopeRead } from './client.js';
import { principalsOf, type IamRead } from './iam.js';

export interface RunRecord {
  startedAt: Date;
  finishedAt: Date;
  scopes: ScopeRead[];
  /** Each audited account's IAM (GetAccountAuthorizationDetails); absent in a run that did not read it. */
  iam?: IamRead[];
  /** Accounts that could not be reached at all (a role that could not be assumed). */
  unreachable: Array<{ account: string; error: CallError }>;
  options: Record<string, unknown>;
}

/** 'YYYY-MM-DD HH:MM:SS' in UTC: how keytrail hands times to DuckDB. */
export function utc(date: Date | undefined | null): string | null {
  return date ? date.toISOString().slice(0, 19).replace('T', ' ') : null;
}

const TABLES = {
  inventory_scopes: { run_id: 'INTEGER', account_id: 'VARCHAR', aws_region: 'VARCHAR', status: 'VARCHAR', error: 'VARCHAR' },
  inventory_keys: {
    run_id: 'INTEGER', key_arn: 'VARCHAR', key_id: 'VARCHAR', account_id: 'VARCHAR', aws_region: 'VARCHAR', key_state: 'VARCHAR',
    enabled: 'BOOLEAN', key_manager: 'VARCHAR', key_spec: 'VARCHAR', key_usage: 'VARCHAR', origin: 'VARCHAR', description: 'VARCHAR',
    creation_date: 'TIMESTAMP', deletion_date: 'TIMESTAMP', valid_to: 'TIMESTAMP', expiration_model: 'VARCHAR',
    custom_key_store_id: 'VARCHAR', multi_region: 'BOOLEAN', metadata: 'JSON',
  },
  inventory_aliases: { run_id: 'INTEGER', account_id: 'VARCHAR', aws_region: 'VARCHAR', alias_name: 'VARCHAR', alias_arn: 'VARCHAR', target_key_arn: 'VARCHAR' },
  inventory_policies: { run_id: 'INTEGER', key_arn: 'VARCHAR', policy_name: 'VARCHAR', policy: 'VARCHAR' },
  inventory_rotation: { run_id: 'INTEGER', key_arn: 'VARCHAR', rotation_supported: 'BOOLEAN', rotation_enabled: 'BOOLEAN', rotation_period_days: 'INTEGER', next_rotation_date: 'TIMESTAMP' },
  inventory_grants: {
    run_id: 'INTEGER', key_arn: 'VARCHAR', grant_id: 'VARCHAR', grant_name: 'VARCHAR', grantee_principal: 'VARCHAR',
    retiring_principal: 'VARCHAR', issuing_account: 'VARCHAR', operations: 'VARCHAR[]', constraints: 'JSON', creation_date: 'TIMESTAMP',
  },
  inventory_tags: { run_id: 'INTEGER', key_arn: 'VARCHAR', tag_key: 'VARCHAR', tag_value: 'VARCHAR' },
  inventory_iam: { run_id: 'INTEGER', account_id: 'VARCHAR', status: 'VARCHAR', error: 'VARCHAR' },
  inventory_iam_entities: { run_id: 'INTEGER', account_id: 'VARCHAR', arn: 'VARCHAR', entity_type: 'VARCHAR', name: 'VARCHAR', unique_id: 'VARCHAR', groups: 'VARCHAR[]' },
  inventory_iam_policies: { run_id: 'INTEGER', account_id: 'VARCHAR', policy_key: 'VARCHAR', policy_kind: 'VARCHAR', policy_name: 'VARCHAR', policy_arn: 'VARCHAR', document: 'VARCHAR' },
  inventory_iam_attachments: { run_id: 'INTEGER', account_id: 'VARCHAR', entity_arn: 'VARCHAR', policy_key: 'VARCHAR' },
  inventory_iam_statements: {
    run_id: 'INTEGER', account_id: 'VARCHAR', policy_key: 'VARCHAR', statement_index: 'INTEGER', sid: 'VARCHAR', effect: 'VARCHAR',
    actions: 'VARCHAR[]', not_actions: 'VARCHAR[]', resources: 'VARCHAR[]', not_resources: 'VARCHAR[]', conditions: 'VARCHAR',
  },
  inventory_access: {
    run_id: 'INTEGER', key_arn: 'VARCHAR', principal: 'VARCHAR', capability: 'VARCHAR', via: 'VARCHAR', detail: 'VARCHAR',
    conditional: 'VARCHAR', actions: 'VARCHAR[]',
  },
  inventory_errors: { run_id: 'INTEGER', account_id: 'VARCHAR', aws_region: 'VARCHAR', key_arn: 'VARCHAR', operation: 'VARCHAR', error_code: 'VARCHAR', error_message: 'VARCHAR' },
} as const;

type Table = keyof typeof TABLES;

/** Rows in one statement: the rows travel as one bound JSON text, typed by the table's column list. */
async function insert(store: Store, table: Table, rows: Array<Record<string, unknown>>): Promise<void> {
  if (rows.length === 0) return;
  const columns = TABLES[table];
  const names = Object.keys(columns).join(', ');
  await store.run(
    `INSERT INTO ${table} (${names}) SELECT ${names} FROM (SELECT unnest(from_json($1::JSON, '[${JSON.stringify(columns)}]'), recursive := true))`,
    [JSON.stringify(rows)],
  );
}

/** Saves the run; returns its run_id. */
export async function saveSnapshot(store: Store, run: RunRecord): Promise<number> {
  return store.transaction(async () => {
    const [{ next }] = await store.all<{ next: number }>('SELECT coalesce(max(run_id), 0) + 1 AS next FROM inventory_runs');
    const run_id = Number(next);
    const keys = run.scopes.flatMap((s) => s.keys.map((k) => ({ scope: s, key: k })));
    await store.run(
      'INSERT INTO inventory_runs (run_id, started_at, finished_at, keys, unreadable_keys, options) VALUES ($1, $2::TIMESTAMP, $3::TIMESTAMP, $4, $5, $6::JSON)',
      [run_id, utc(run.startedAt), utc(run.finishedAt), keys.length, keys.filter((k) => k.key.errors.length > 0).length, JSON.stringify(run.options)],
    );
    await insert(store, 'inventory_scopes', run.scopes.map((s) => ({
      run_id, account_id: s.account, aws_region: s.region, status: s.status, error: s.error ? `${s.error.code}: ${s.error.message}` : null,
    })));
    await insert(store, 'inventory_keys', keys.map(({ scope, key }) => {
      const m = key.metadata;
      return {
        run_id, key_arn: key.keyArn, key_id: key.keyId, account_id: scope.account, aws_region: scope.region,
        key_state: m?.KeyState ?? null, enabled: m?.Enabled ?? null, key_manager: m?.KeyManager ?? null,
        key_spec: m?.KeySpec ?? m?.CustomerMasterKeySpec ?? null, key_usage: m?.KeyUsage ?? null, origin: m?.Origin ?? null,
        description: m?.Description ?? null, creation_date: utc(m?.CreationDate), deletion_date: utc(m?.DeletionDate),
        valid_to: utc(m?.ValidTo), expiration_model: m?.ExpirationModel ?? null, custom_key_store_id: m?.CustomKeyStoreId ?? null,
        multi_region: m?.MultiRegion ?? null, metadata: m,
      };
    }));
    await insert(store, 'inventory_aliases', run.scopes.flatMap((s) => s.aliases.map((a) => ({
      run_id, account_id: s.account, aws_region: s.region, alias_name: a.AliasName ?? '', alias_arn: a.AliasArn ?? null,
      target_key_arn: a.TargetKeyId ? `arn:aws:kms:${s.region}:${s.account}:key/${a.TargetKeyId}` : null,
    }))));
    await insert(store, 'inventory_policies', keys.filter(({ key }) => key.policy !== null).map(({ key }) => ({
      run_id, key_arn: key.keyArn, policy_name: 'default', policy: key.policy,
    })));
    await insert(store, 'inventory_rotation', keys.filter(({ key }) => key.rotation !== null).map(({ key }) => ({
      run_id, key_arn: key.keyArn, rotation_supported: key.rotation!.supported, rotation_enabled: key.rotation!.enabled,
      rotation_period_days: key.rotation!.periodDays, next_rotation_date: utc(key.rotation!.nextRotation),
    })));
    await insert(store, 'inventory_grants', keys.flatMap(({ key }) => key.grants.map((g) => ({
      run_id, key_arn: key.keyArn, grant_id: g.GrantId ?? '', grant_name: g.Name || null, grantee_principal: g.GranteePrincipal ?? null,
      retiring_principal: g.RetiringPrincipal ?? null, issuing_account: g.IssuingAccount ?? null, operations: g.Operations ?? [],
      constraints: g.Constraints ?? null, creation_date: utc(g.CreationDate),
    }))));
    await insert(store, 'inventory_tags', keys.flatMap(({ key }) => key.tags.map((t) => ({
      run_id, key_arn: key.keyArn, tag_key: t.TagKey ?? '', tag_value: t.TagValue ?? null,
    }))));
    await saveIam(store, run_id, run.iam ?? []);
    await insert(store, 'inventory_access', keys.flatMap(({ scope, key }) => {
      const iam = run.iam?.find((r) => r.account === scope.account && r.status === 'ok');
      const grants = key.grants.map((g) => ({ grantId: g.GrantId ?? '', granteePrincipal: g.GranteePrincipal ?? null, operations: g.Operations ?? [], constraints: g.Constraints ?? null }));
      return keyAccess(key.keyArn, key.policy, grants, iam ? principalsOf(iam.entities) : null).map((a) => ({ run_id, key_arn: key.keyArn, ...a }));
    }));
    await insert(store, 'inventory_errors', [
      ...run.scopes.filter((s) => s.error).map((s) => ({
        run_id, account_id: s.account, aws_region: s.region, key_arn: null, operation: s.error!.operation, error_code: s.error!.code, error_message: s.error!.message,
      })),
      ...keys.flatMap(({ scope, key }) => key.errors.map((e) => ({
        run_id, account_id: scope.account, aws_region: scope.region, key_arn: key.keyArn, operation: e.operation, error_code: e.code, error_message: e.message,
      }))),
      ...(run.iam ?? []).filter((r) => r.error).map((r) => ({
        run_id, account_id: r.account, aws_region: '', key_arn: null, operation: r.error!.operation, error_code: r.error!.code, error_message: r.error!.message,
      })),
      ...run.unreachable.map((u) => ({
        run_id, account_id: u.account, aws_region: '', key_arn: null, operation: u.error.operation, error_code: u.error.code, error_message: u.error.message,
      })),
    ]);
    return run_id;
  });
}

/** The IAM of each account: entities, each policy once (inline ones per entity), who has which, statements flattened. */
async function saveIam(store: Store, run_id: number, reads: IamRead[]): Promise<void> {
  await insert(store, 'inventory_iam', reads.map((r) => ({ run_id, account_id: r.account, status: r.status, error: r.error ? `${r.error.code}: ${r.error.message}` : null })));
  const entities = reads.flatMap((r) => r.entities.map((e) => ({ account: r.account, e })));
  await insert(store, 'inventory_iam_entities', entities.map(({ account, e }) => ({
    run_id, account_id: account, arn: e.arn, entity_type: e.type, name: e.name, unique_id: e.uniqueId, groups: e.groups,
  })));
  const policies = new Map<string, { account: string; key: string; kind: string; name: string; arn: string | null; document: string | null }>();
  const attachments: Array<Record<string, unknown>> = [];
  for (const { account, e } of entities) {
    for (const p of e.policies) {
      // A managed policy is one document however many entities it is attached to.
      const key = p.arn ?? `${e.arn}#${p.name}`;
      policies.set(`${account}|${key}`, { account, key, kind: p.kind, name: p.name, arn: p.arn, document: p.document });
      attachments.push({ run_id, account_id: account, entity_arn: e.arn, policy_key: key });
    }
  }
  const list = [...policies.values()];
  await insert(store, 'inventory_iam_policies', list.map((p) => ({
    run_id, account_id: p.account, policy_key: p.key, policy_kind: p.kind, policy_name: p.name, policy_arn: p.arn, document: p.document,
  })));
  await insert(store, 'inventory_iam_attachments', attachments);
  await insert(store, 'inventory_iam_statements', list.flatMap((p) => (p.document === null ? [] : flattenStatements(p.document)).map((st) => ({
    run_id, account_id: p.account, policy_key: p.key, ...st,
  }))));
}
