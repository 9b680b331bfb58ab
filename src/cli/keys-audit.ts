// keytrail keys audit: reads the live KMS inventory, stores it as a snapshot, prints the checks' findings.

import { DuckDBEngine } from '../engine.js';
import { ParamError, atOrAbove, parseParamOverrides, sortFindings, type Finding } from '../detect/run.js';
import { RuleError, SEVERITIES, type Rule, type Severity } from '../detect/rules.js';
import { TrustError, loadTrustConfig, parseAccountList, resolveTrust, type TrustConfig } from '../detect/trust.js';
import { compareWithAnalyzer, readAnalyzerFindings } from '../inventory/access-analyzer.js';
import { readInventory, unreadable, type AuditRead } from '../inventory/audit.js';
import { loadAuditChecks, runAuditChecks } from '../inventory/checks.js';
import { saveSnapshot, utc } from '../inventory/snapshot.js';
import { NoRegionError } from '../inventory/targets.js';
import { openStore } from '../store/schema.js';
import { DEFAULT_DB, EXIT, UsageError, oneOf, parse, positiveInt } from './args.js';
import { formatFindings } from './detect.js';

const HELP = `usage: keytrail keys audit [options]

Reads every KMS key through the KMS API (ListKeys, DescribeKey, ListAliases, GetKeyPolicy,
GetKeyRotationStatus, ListGrants, ListResourceTags) and each account's IAM
(GetAccountAuthorizationDetails: users, groups, roles and their policies), stores the result in
the database as a snapshot beside the CloudTrail history with who may use each key (keytrail keys
access), and prints the findings of the checks in queries/audit: key policies and grants open
outside the zone of trust, IAM policies that decrypt with every key, access nobody uses, key
administrators who can also decrypt, grants that pass the key on or name deleted principals,
replicas whose policy drifted from their primary, rotation off, keys pending deletion, disabled
keys still called, imported material about to expire, unused keys, what could not be read, and
what changed since the previous audit. Findings have detect's shape. IAM refused: the audit goes
on, says so, and names the account root where IAM would name users and roles.

options:
  --regions LIST            comma-separated regions (default: every region enabled for the
                            account, else the credential chain's region)
  --role-arn ARN            audit the account of this role (STS AssumeRole); repeat for several
                            accounts (default: the credential chain's own account)
  --profile NAME            the shared config / credentials profile to use
  --endpoint-url URL        a KMS-compatible endpoint, also asked for STS, Account, IAM and
                            Access Analyzer when it speaks them (else AWS_ENDPOINT_URL_KMS /
                            AWS_ENDPOINT_URL)
  --db FILE                 database file (default ${DEFAULT_DB})
  --trusted-accounts IDS    comma-separated account ids inside the zone of trust
  --config FILE             JSON {"trustedAccounts": [...], "trustedOrgIds": ["o-..."]}
  --param CHECK.NAME=VALUE  override a check's parameter, e.g. material_expiry.days=60
  --access-analyzer         also read IAM Access Analyzer's active AWS::KMS::Key findings and
                            report where its verdict and keytrail's differ
  --concurrency N           KMS calls in flight at once (default 8)
  --format FORMAT           table (default) or json (an array of findings, as keytrail detect)
  --fail-on SEVERITY        exit with code 1 when a finding of SEVERITY or worse exists
  -h, --help                show this help

Trusted accounts default to the audited accounts and the accounts of the trail in the database.
Throttled calls are retried by the SDK's adaptive retry, up to 8 attempts (AWS_RETRY_MODE and
AWS_MAX_ATTEMPTS decide when set).

exit codes: 0 done; 1 a finding at or above --fail-on; 2 bad usage or unusable database;
3 some keys, regions or accounts could not be read (they are named in the findings, the rest
was audited); 4 nothing could be read.`;

/** The checks see every account and region ever audited; this run prints what it read. */
function inThisRun(read: AuditRead): (f: Finding) => boolean {
  // A region that could not be listed has its error here, not the findings of an older snapshot.
  const scopes = new Set(read.scopes.filter((s) => s.status === 'ok').map((s) => `${s.account}:${s.region}`));
  const accounts = new Set([...read.scopes.map((s) => s.account), ...read.unreachable.map((u) => u.account)]);
  return (f) => {
    if (!f.key_arn) return f.account_id !== null && accounts.has(f.account_id);
    const [, , , region, account] = f.key_arn.split(':');
    return scopes.has(`${account}:${region}`);
  };
}

const ROLE_RE = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;
const REGION_RE = /^[a-z]{2}(-[a-z]+)+-\d+$/;

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(
    argv,
    HELP,
    {
      regions: { type: 'string' },
      'role-arn': { type: 'string', multiple: true },
      profile: { type: 'string' },
      'endpoint-url': { type: 'string' },
      db: { type: 'string', default: DEFAULT_DB },
      'trusted-accounts': { type: 'string' },
      config: { type: 'string' },
      param: { type: 'string', multiple: true },
      'access-analyzer': { type: 'boolean', default: false },
      concurrency: { type: 'string' },
      format: { type: 'string' },
      'fail-on': { type: 'string' },
    },
    false,
  );
  const format = oneOf(values.format, '--format', ['table', 'json'] as const, 'table');
  const failOn = values['fail-on'] === undefined ? null : oneOf<Severity>(values['fail-on'], '--fail-on', SEVERITIES, 'high');
  const concurrency = positiveInt(values.concurrency, '--concurrency', 8);
  const roleArns = values['role-arn'] ?? [];
  for (const arn of roleArns) if (!ROLE_RE.test(arn)) throw new UsageError(`--role-arn: '${arn}' is not an IAM role ARN (arn:aws:iam::123456789012:role/Name)`);
  let regions: string[] | null = null;
  if (values.regions !== undefined) {
    regions = [...new Set(values.regions.split(',').map((r) => r.trim()).filter((r) => r !== ''))];
    const bad = regions.find((r) => !REGION_RE.test(r));
    if (bad !== undefined || regions.length === 0) throw new UsageError(`--regions: '${bad ?? values.regions}' is not a region (e.g. us-east-1,eu-west-1)`);
  }
  if (values['endpoint-url'] !== undefined && !/^https?:\/\/[^/\s]+/.test(values['endpoint-url'])) {
    throw new UsageError(`--endpoint-url: '${values['endpoint-url']}' is not an http(s) URL`);
  }
  let checks: Rule[];
  let params;
  let trustedAccounts: string[] | null = null;
  let config: TrustConfig | null = null;
  try {
    checks = loadAuditChecks();
    params = parseParamOverrides(values.param ?? [], checks);
    if (values['trusted-accounts'] !== undefined) trustedAccounts = parseAccountList(values['trusted-accounts']);
    if (values.config !== undefined) config = loadTrustConfig(values.config);
  } catch (err) {
    if (err instanceof RuleError) throw new UsageError(`an audit check is unusable: ${err.message}`);
    if (err instanceof ParamError || err instanceof TrustError) throw new UsageError(err.message.replace('keytrail detect --list', 'queries/audit'));
    throw err;
  }

  // A locked or unusable database fails before any AWS call; but the lock is not held while KMS
  // is read (minutes for a large organization), so ingest, detect and report are not kept waiting.
  (await openStore(values.db!)).close();
  const connect = { endpointUrl: values['endpoint-url'], profile: values.profile };
  const progress = process.stderr.isTTY ? (line: string) => console.error(line) : undefined;
  let read;
  try {
    read = await readInventory({ ...connect, roleArns, regions, concurrency, progress });
  } catch (err) {
    if (err instanceof NoRegionError) throw new UsageError(err.message);
    console.error(`keytrail keys audit: cannot start: ${(err as Error).name}: ${(err as Error).message}`);
    return EXIT.failed;
  }
  const analyzed = values['access-analyzer'] ? await readAnalyzerFindings(connect, read.targets) : null;
  const store = await openStore(values.db!, { waitMs: 10 * 60_000 });
  try {
    await saveSnapshot(store, read);

    const engine = new DuckDBEngine(store);
    const trust = await resolveTrust(engine, trustedAccounts, config);
    if (trust.accountsFrom === 'data') {
      trust.trustedAccounts = [...new Set([...trust.trustedAccounts, ...read.targets.map((t) => t.account)])].sort();
    }
    let findings: Finding[] = (await runAuditChecks(engine, checks, trust, params)).filter(inThisRun(read));
    if (analyzed) {
      for (const s of analyzed) {
        if (s.error) console.error(`keytrail keys audit: Access Analyzer in ${s.account} ${s.region}: ${s.error.code}: ${s.error.message}`);
        else if (!s.analyzer) console.error(`keytrail keys audit: no active Access Analyzer in ${s.account} ${s.region}: nothing to compare`);
      }
      findings = sortFindings([...findings, ...compareWithAnalyzer(analyzed, findings, `${utc(read.startedAt)!.replace(' ', 'T')}Z`)]);
    }
    console.log(formatFindings(findings, format));
    for (const r of read.iam) {
      if (r.error) console.error(`keytrail keys audit: IAM of ${r.account} not read (${r.error.code}: ${r.error.message}): who IAM lets use its keys is not judged`);
    }

    const missing = unreadable(read);
    const readKeys = read.scopes.reduce((n, s) => n + s.keys.length, 0);
    const okScopes = read.scopes.filter((s) => s.status === 'ok').length;
    console.error(
      `audited ${readKeys} keys in ${okScopes} region(s) of ${read.targets.length} account(s)` +
        (missing.keys + missing.scopes + missing.accounts > 0
          ? `; could not read: ${missing.keys} key(s), ${missing.scopes} region(s), ${missing.accounts} account(s)` : ''),
    );
    if (okScopes === 0) return EXIT.failed;
    if (failOn !== null && atOrAbove(findings, failOn).length > 0) return EXIT.findings;
    return missing.keys + missing.scopes + missing.accounts > 0 ? EXIT.quarantined : EXIT.ok;
  } finally {
    store.close();
  }
}
