// The report as Markdown (GitHub flavoured): a header with totals, then one table per section.
// All data is escaped: ARNs go in code spans, free text has Markdown and HTML characters escaped.

import {
  findingsTotals, formatInt, formatPercent, groupBy, identityLabel, keySeries, noDataText, notes, operationsText, periodText,
  principalSeries, totalSeries, type DailySeries,
} from '../labels.js';
import type { IntegritySection } from '../../integrity/evidence.js';
import type { Report } from '../model.js';

export function renderMarkdown(report: Report): string {
  const out: string[] = [];
  const { meta, summary } = report;
  out.push(`# ${meta.title}`, '');
  out.push(`**Period:** ${text(periodText(report))}${meta.account ? ` · **Account:** ${code(meta.account)}` : ''}  `);
  out.push(`**Accounts:** ${list(meta.accounts)} · **Regions:** ${list(meta.regions)}  `);
  out.push(`**Source:** ${code(meta.source)} (${text(meta.engine)}) · generated ${text(meta.generated_at)} by keytrail ${text(meta.keytrail_version)}`, '');

  out.push(table(
    ['KMS calls', 'Principals', 'Keys', 'Source IPs', 'Errors', 'Error rate', 'Findings'],
    [[formatInt(summary.calls), formatInt(summary.principals), formatInt(summary.keys), formatInt(summary.source_ips),
      formatInt(summary.errors), formatPercent(summary.calls ? summary.errors / summary.calls : 0), findingsTotals(report)]],
    'rrrrrrl',
  ));
  for (const note of notes(report)) out.push(`> ${text(note)}`, '');

  if (summary.calls === 0) {
    out.push('## No data', '', text(noDataText(report)), '');
    return `${out.join('\n').trimEnd()}\n`;
  }

  out.push('## Findings', '');
  if (report.findings.status !== 'ok') out.push(`_Findings unavailable: ${text(report.findings.note ?? '')}._`, '');
  else if (report.findings.items.length === 0) out.push('No detection fired in this period.', '');
  else {
    out.push(table(
      ['Severity', 'Finding', 'Principal', 'Key', 'Source IP', 'Account', 'First seen', 'Last seen', 'Events', 'Detail'],
      report.findings.items.map((f) => [
        text(f.severity.toUpperCase()), `${text(f.title)} (${code(f.rule)})`, code(f.identity_arn), code(f.key_arn),
        code(f.source_ip), code(f.account_id), text(f.first_seen ?? ''), text(f.last_seen ?? ''), formatInt(f.event_count),
        text(f.detail ?? ''),
      ]),
      'llllllllrl',
    ));
  }

  const ops = groupBy(report.principal_operations, (o) => o.identity_arn ?? '');
  out.push('## Principals', '', 'Calls per caller; assumed-role sessions are counted under their role.', '');
  out.push(table(
    ['Principal', 'Calls', 'Decrypt', 'Encrypt', 'GenerateDataKey', 'Other crypto', 'Describe/List', 'Changes', 'Keys',
      'Source IPs', 'Errors', 'Error rate', 'First seen', 'Last seen', 'Busiest day', 'Top operations'],
    report.principals.map((p) => [
      code(p.identity_arn), formatInt(p.calls), formatInt(p.decrypt), formatInt(p.encrypt), formatInt(p.generate_data_key),
      formatInt(p.other_crypto), formatInt(p.describe_list), formatInt(p.management), formatInt(p.keys),
      formatInt(p.source_ips), formatInt(p.errors), formatPercent(p.error_rate), text(p.first_seen), text(p.last_seen),
      p.busiest_day ? `${text(p.busiest_day)} (${formatInt(p.busiest_day_calls)})` : '',
      text(operationsText(ops.get(p.identity_arn ?? '') ?? [])),
    ]),
    'lrrrrrrrrrrrllll',
  ));

  const callers = groupBy(report.key_callers, (c) => c.key_arn);
  out.push('## Keys', '');
  if (!report.key_state_available) out.push('_Key state unavailable: the database has no kms_key_state view._', '');
  out.push(table(
    ['Key', 'State', 'Rotation', 'Calls', 'Callers', 'Top callers', 'Decrypt', 'Encrypt', 'GenerateDataKey', 'Errors',
      'Policy changes', 'Last policy change', 'Last used'],
    report.keys.map((k) => [
      code(k.key_arn), text(k.key_state ?? '—'), text(k.rotation ?? '—'), formatInt(k.calls), formatInt(k.callers),
      text((callers.get(k.key_arn) ?? []).slice(0, 3).map((c) => `${identityLabel(c.identity_arn).name} ${formatInt(c.calls)}`).join(' · ')),
      formatInt(k.decrypt), formatInt(k.encrypt), formatInt(k.generate_data_key), formatInt(k.errors), formatInt(k.policy_changes),
      k.last_policy_change ? `${text(k.last_policy_change)}${k.last_policy_changed_by ? ` by ${code(k.last_policy_changed_by)}` : ''}` : '—',
      text(k.last_seen),
    ]),
    'lllrrlrrrrrll',
  ));

  out.push('## Callers per key', '');
  out.push(table(
    ['Key', 'Principal', 'Calls', 'Cryptographic calls', 'Errors', 'Source IPs', 'First seen', 'Last seen'],
    report.key_callers.map((c) => [
      code(c.key_arn), code(c.identity_arn), formatInt(c.calls), formatInt(c.crypto_calls), formatInt(c.errors),
      formatInt(c.source_ips), text(c.first_seen), text(c.last_seen),
    ]),
    'llrrrrll',
  ));

  if (report.key_configuration.length > 0) {
    out.push('## Key configuration (live audit)', '', `Every key as the latest \`keytrail keys audit\` read it (audited ${text(report.key_configuration[0].audited_at)}).`, '');
    out.push(table(
      ['Key', 'Aliases', 'State', 'Manager', 'Spec', 'Origin', 'Rotation', 'Deletion', 'Material expires', 'Grants', 'Tags', 'Could not read', 'Can use', 'Used by'],
      report.key_configuration.map((k) => [
        code(k.key_arn), text(k.aliases ?? ''), text(k.key_state ?? '—'), text(k.key_manager ?? ''), text(k.key_spec ?? ''),
        text(k.origin ?? ''), text(k.rotation ?? '—'), text(k.deletion_date ?? ''), text(k.material_expires ?? ''), formatInt(k.grants),
        text(k.tags ?? ''), text(k.unreadable ?? ''), text(k.can_use ?? ''), text(k.used_by ?? ''),
      ]),
      'lllllllllrllll',
    ));
  }

  const totals = totalSeries(report);
  out.push('## Calls per day', '', `Top ${report.meta.top} principals by calls in the period; UTC days.`, '');
  out.push(dailyTable(principalSeries(report), totals.series[0].values, totals.errors));
  out.push(legend(principalSeries(report)));
  out.push('## Calls per day, top keys', '');
  out.push(dailyTable(keySeries(report), totals.series[0].values, null));
  out.push(legend(keySeries(report)));

  out.push('## Accounts and regions', '');
  out.push(table(
    ['Account', 'Region', 'Calls', 'Principals', 'Keys', 'Errors', 'First event', 'Last event'],
    report.scope.map((s) => [
      code(s.account_id), code(s.aws_region), formatInt(s.calls), formatInt(s.principals), formatInt(s.keys),
      formatInt(s.errors), text(s.first_event), text(s.last_event),
    ]),
    'llrrrrll',
  ));
  if (report.integrity) out.push(...integritySection(report.integrity));
  return `${out.join('\n').trimEnd()}\n`;
}

function dailyTable(daily: DailySeries, all: number[], errors: number[] | null): string {
  const headers = ['Day', 'All calls', ...(errors ? ['Errors'] : []), ...daily.series.map((s) => s.label)];
  const rows = daily.days.map((day, i) => [
    text(day), formatInt(all[i]), ...(errors ? [formatInt(errors[i])] : []), ...daily.series.map((s) => formatInt(s.values[i])),
  ]);
  return table(headers.map(text), rows, `l${'r'.repeat(headers.length - 1)}`, true);
}

function legend(daily: DailySeries): string {
  return `${daily.series.map((s) => `- ${text(s.label)}: ${code(s.id)}`).join('\n')}\n`;
}

/** What the numbers rest on: the verification of the log objects (keytrail verify, ingest --verify). */
function integritySection(i: IntegritySection): string[] {
  const out = ['## Integrity', '', 'Verification of the CloudTrail objects behind these numbers (digest chain, signatures, SHA-256 of each log).', ''];
  out.push(table(['Kind', 'Status', 'Objects'], i.statuses.map((r) => [text(r.kind), text(r.status), formatInt(r.objects)]), 'llr'));
  if (i.unchecked_logs > 0) out.push(`${formatInt(i.unchecked_logs)} loaded log object(s) from verified sources were never verified.`, '');
  if (i.findings.tampered + i.findings.unverified > 0) {
    out.push(`**${formatInt(i.findings.tampered)} finding(s) rest on objects that failed verification, ` +
      `${formatInt(i.findings.unverified)} on objects no valid digest vouches for.**`, '');
  }
  if (i.failed.length > 0) {
    out.push('### Failed verification', '');
    out.push(table(['Object', 'Kind', 'Problem', 'Detail'],
      i.failed.map((f) => [code(f.object_uri), text(f.kind), text(f.problem ?? ''), text(f.detail ?? '')]), 'llll'));
  }
  out.push('### Delivery gaps', '', 'Hours no digest covers: missing evidence, not tampering.', '');
  if (i.delivery_gaps.length === 0) out.push('None.', '');
  else {
    out.push(table(['Account', 'Region', 'Trail', 'Gaps', 'Hours', 'First gap', 'Last gap ends'],
      i.delivery_gaps.map((g) => [code(g.account_id), code(g.aws_region), text(g.trail), formatInt(g.gaps), String(g.hours),
        text(g.first_gap), text(g.last_gap_end)]), 'lllrrll'));
  }
  return out;
}

function table(headers: string[], rows: string[][], align: string, headersEscaped = false): string {
  const head = headersEscaped ? headers : headers.map(text);
  const rule = head.map((_, i) => (align[i] === 'r' ? '---:' : '---'));
  return `${[head, rule, ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n')}\n`;
}

/** Free text in a table cell: Markdown, HTML and table syntax escaped, on one line. */
export function text(value: string): string {
  return value
    .replace(/[\r\n\t]+/g, ' ')
    .replace(/[\\`*_[\]|~]/g, (c) => `\\${c}`)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

/** An identifier (ARN, IP, account) as a code span; '—' when there is none. */
export function code(value: string | null): string {
  if (value === null || value === '') return '—';
  if (/[`\r\n]/.test(value)) return text(value);
  return `\`${value.replace(/\|/g, '\\|')}\``;
}

function list(values: string[]): string {
  return values.length ? values.map(code).join(', ') : '—';
}
