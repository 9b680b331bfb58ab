// keytrail report: usage per principal and per key, over time, with the findings, as Markdown,
// CSV, JSON or one self-contained HTML page.

import { mkdirSync, writeFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { parseDay } from '../source/layout.js';
import { collectIntegrity } from '../integrity/evidence.js';
import { DEFAULT_TOP, collectReport } from '../report/collect.js';
import { TrustError, loadTrustConfig, parseAccountList } from '../detect/trust.js';
import { detectFindingsWith } from '../report/findings.js';
import { TABLES, type TableName } from '../report/model.js';
import { REPORT_FORMATS, renderCsvFiles, renderCsvTable, renderDocument, type ReportFormat } from '../report/render/index.js';
import { DEFAULT_DB, EXIT, UsageError, WAIT_OPTION, oneOf, parse, positiveInt, waitMs } from './args.js';
import { ENGINE_HELP, ENGINE_OPTIONS, engineErrorMessage, engineName, openEngine } from './engine-options.js';
import { wrap } from './format.js';

const HELP = `usage: keytrail report [options]

Usage of the KMS keys in the database: per principal (assumed-role sessions under their role),
per key (callers, operations, state), calls per day, and the detections' findings, with a header
of period, accounts, regions and totals. The SQL behind each section is in queries/reports/.

options:
  --db FILE                 database file (default ${DEFAULT_DB})
  --since DATE              first day to report, YYYY-MM-DD (UTC; default: the first event)
  --until DATE              last day to report, inclusive (default: the last event)
  --account ID              only events delivered to this account (recipientAccountId)
  --format FORMAT           md (default), csv, json or html; default from --out's extension
  --out PATH                write to PATH instead of stdout; with --format csv, a folder that
                            gets one file per section (see --section)
  --section NAME            with --format csv: only this section, to stdout or --out FILE:
                            ${wrap(TABLES.join(', '), 68).join(`\n${' '.repeat(28)}`)}
  --top N                   principals and keys followed day by day (default ${DEFAULT_TOP})
  --no-findings             leave the detections out (faster on a large database)
  --trusted-accounts IDS    comma-separated account ids inside the zone of trust, for the
                            findings (as keytrail detect; default: the accounts in the data)
  --config FILE             JSON {"trustedAccounts": [...], "trustedOrgIds": ["o-..."]}, as
                            keytrail detect; --trusted-accounts wins over its trustedAccounts
  --wait SECONDS            wait up to SECONDS while an ingest holds the database (default 60)
${ENGINE_HELP}
  -h, --help                show this help

examples:
  keytrail report --format html --out report.html
  keytrail report --since 2024-05-01 --until 2024-05-31 --account 111111111111 > may.md
  keytrail report --format csv --out report/
  keytrail report --format csv --section principals`;

const BY_EXTENSION: Record<string, ReportFormat> = { '.html': 'html', '.htm': 'html', '.md': 'md', '.json': 'json', '.csv': 'csv' };

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(
    argv,
    HELP,
    {
      ...ENGINE_OPTIONS,
      ...WAIT_OPTION,
      db: { type: 'string', default: DEFAULT_DB },
      since: { type: 'string' },
      until: { type: 'string' },
      account: { type: 'string' },
      format: { type: 'string' },
      out: { type: 'string' },
      section: { type: 'string' },
      top: { type: 'string' },
      'no-findings': { type: 'boolean', default: false },
      'trusted-accounts': { type: 'string' },
      config: { type: 'string' },
    },
    false,
  );
  const out = values.out;
  const format = oneOf(values.format, '--format', REPORT_FORMATS, (out && BY_EXTENSION[extname(out).toLowerCase()]) || 'md');
  const since = day(values.since, '--since');
  const until = day(values.until, '--until');
  if (since && until && since > until) throw new UsageError('--since is after --until');
  const account = values.account ?? null;
  if (account !== null && !/^\d{12}$/.test(account)) throw new UsageError(`--account: '${account}' is not a 12-digit AWS account id`);
  const top = positiveInt(values.top, '--top', DEFAULT_TOP);
  let section: TableName | null = null;
  if (values.section !== undefined) {
    if (format !== 'csv') throw new UsageError('--section goes with --format csv');
    section = oneOf<TableName>(values.section, '--section', TABLES, 'summary');
  }
  if (format === 'csv' && section === null && out === undefined) {
    throw new UsageError('--format csv writes one file per section: give --out FOLDER, or --section NAME for one on stdout');
  }

  let findings = null;
  if (!values['no-findings']) {
    try {
      const trusted = values['trusted-accounts'] === undefined ? null : parseAccountList(values['trusted-accounts']);
      findings = detectFindingsWith(trusted, values.config === undefined ? null : loadTrustConfig(values.config));
    } catch (err) {
      if (err instanceof TrustError) throw new UsageError(err.message);
      throw err;
    }
  } else if (values['trusted-accounts'] !== undefined || values.config !== undefined) {
    throw new UsageError('--trusted-accounts and --config are for the findings: they do not go with --no-findings');
  }

  const source = engineName(values) === 'athena' ? `athena:${values['athena-database']}` : values.db!;
  const engine = await openEngine(values, values.db!, waitMs(values.wait));
  const started = Date.now();
  let report;
  try {
    report = await collectReport(engine, { since, until, account, top, source }, findings ?? undefined);
    report.integrity = await collectIntegrity(engine, { since, until, account }, report.findings.items);
  } catch (err) {
    const message = engineErrorMessage(err);
    if (message === null) throw err;
    console.error(`keytrail report: ${message}`);
    return EXIT.failed;
  } finally {
    await engine.close();
  }
  if (values['no-findings']) report.findings.note = 'left out (--no-findings)';

  if (format === 'csv' && section === null) {
    mkdirSync(out!, { recursive: true });
    for (const [name, text] of renderCsvFiles(report)) writeFileSync(join(out!, name), text);
  } else {
    const text = format === 'csv' ? renderCsvTable(report, section!) : renderDocument(report, format as Exclude<ReportFormat, 'csv'>);
    if (out === undefined) process.stdout.write(text);
    else writeFileSync(out, text);
  }
  if (process.stderr.isTTY && out !== undefined) {
    console.error(`keytrail report: wrote ${out} (${report.summary.calls} events, ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  }
  if (report.findings.status === 'failed') {
    console.error(`keytrail report: ${report.findings.note}; the report says so and has everything else`);
    return EXIT.failed;
  }
  return EXIT.ok;
}

function day(value: string | undefined, name: string): string | null {
  if (value === undefined) return null;
  try {
    return parseDay(value, name);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}
