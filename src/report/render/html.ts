// The report as one self-contained HTML page: inline CSS, inline SVG charts, a small inline script
// for sortable tables. It fetches nothing (its Content-Security-Policy forbids it), so it opens
// offline and can be mailed as an attachment. Every value from the data is escaped.

import { createHash } from 'node:crypto';
import {
  formatInt, formatPercent, groupBy, humanDay, identityLabel, isExternalAccount, keyLabel, keySeries, noDataText, notes,
  operationsText, periodText, principalSeries, shortDay, totalSeries, type DailySeries, type Series,
} from '../labels.js';
import { SEVERITY_ORDER, type Finding, type KeyCallerRow, type KeyRow, type PrincipalRow, type Report } from '../model.js';
import { CSS, SCRIPT } from './html-assets.js';
import { barChart, sparkChart } from './html-chart.js';
import { escapeHtml as esc } from './html-escape.js';

export function renderHtml(report: Report): string {
  const csp = [
    "default-src 'none'",
    `style-src '${sha256(CSS)}'`,
    `script-src '${sha256(SCRIPT)}'`,
    "img-src data:",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
  const empty = report.summary.calls === 0;
  const body = empty
    ? `<section class="card empty" id="no-data"><h2>No KMS events</h2><p>${esc(noDataText(report))}</p></section>`
    : [findingsSection(report), activitySection(report), principalsSection(report), keysSection(report), keyConfigSection(report), scopeSection(report), integritySection(report)].join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${esc(csp)}">
<meta name="generator" content="keytrail ${esc(report.meta.keytrail_version)}">
<title>${esc(`${report.meta.title} · ${periodText(report)}`)}</title>
<style>${CSS}</style>
</head>
<body>
${header(report)}
<main class="wrap">
${kpis(report)}
${notes(report).map((n) => `<p class="note warn">${esc(n)}</p>`).join('\n')}
${body}
${aboutSection(report)}
</main>
<footer class="wrap">Generated ${esc(report.meta.generated_at)} by keytrail ${esc(report.meta.keytrail_version)} from ${esc(report.meta.source)}. The numbers come from queries/reports/*.sql; the same data is available as Markdown, CSV and JSON (keytrail report --format).</footer>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

function sha256(text: string): string {
  return `sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}`;
}

// ---- header and totals -------------------------------------------------------------------------

function header(report: Report): string {
  const { meta } = report;
  const item = (label: string, value: string) => `<div><dt>${esc(label)}</dt><dd>${value}</dd></div>`;
  const list = (values: string[]) => (values.length ? esc(values.join(', ')) : '—');
  return `<header class="top"><div class="wrap">
<div class="eyebrow">keytrail · AWS KMS audit</div>
<h1>${esc(meta.title)}</h1>
<p class="period" id="period">${esc(periodText(report))}</p>
<dl class="meta">
${meta.account ? item('Account filter', esc(meta.account)) : ''}
${item(meta.accounts.length === 1 ? 'Account' : 'Accounts', list(meta.accounts))}
${item(meta.regions.length === 1 ? 'Region' : 'Regions', list(meta.regions))}
${item('Source', `<span class="mono">${esc(meta.source)}</span>`)}
${item('Generated', esc(meta.generated_at.replace('T', ' ').replace('Z', ' UTC')))}
</dl>
</div></header>`;
}

function kpis(report: Report): string {
  const s = report.summary;
  const crossAccount = report.principals.filter((p) => isExternalAccount(principalAccount(p), report)).length;
  const atRisk = report.keys.filter((k) => k.key_state !== null && k.key_state !== 'Enabled').length;
  const card = (id: string, label: string, value: string, sub: string, cls = '') =>
    `<div class="kpi${cls}" id="kpi-${id}"><div class="label">${esc(label)}</div><div class="value">${value}</div><div class="sub">${sub}</div></div>`;
  const f = report.findings;
  let findings: string;
  if (f.status !== 'ok') findings = card('findings', 'Findings', '—', esc(f.status === 'failed' ? 'detections failed' : 'not available'));
  else {
    const total = f.items.length;
    const chips = SEVERITY_ORDER.filter((sev) => f.by_severity[sev] > 0)
      .map((sev) => `<span class="badge sev-${sev}">${f.by_severity[sev]} ${esc(sev)}</span>`).join('');
    findings = card('findings', 'Findings', formatInt(total), chips ? `<span class="chips">${chips}</span>` : '<span class="badge sev-none">none</span>',
      f.by_severity.high > 0 ? ' alert' : '');
  }
  const none = s.calls === 0;
  return `<section class="kpis" aria-label="Totals">
${card('calls', 'KMS calls', formatInt(s.calls), none ? 'in the period' : `${esc(formatInt(Math.round(s.calls / dayCount(report))))} per day on average`)}
${card('principals', 'Principals', formatInt(s.principals), none ? '—' : crossAccount ? `${formatInt(crossAccount)} from other accounts` : 'all from the accounts above')}
${card('keys', 'Keys used', formatInt(s.keys), none ? '—' : report.key_state_available ? (atRisk ? `${formatInt(atRisk)} not enabled` : 'all enabled') : 'key state unavailable')}
${card('ips', 'Source IPs', formatInt(s.source_ips), none ? '—' : 'distinct addresses and services')}
${card('errors', 'Failed calls', formatInt(s.errors), none ? '—' : `${esc(formatPercent(s.errors / s.calls))} of calls`, s.errors > 0 ? ' alert' : '')}
${findings}
</section>`;
}

function dayCount(report: Report): number {
  return Math.max(1, totalSeries(report).days.length);
}

// ---- findings ----------------------------------------------------------------------------------

function findingsSection(report: Report): string {
  const f = report.findings;
  const head = `<h2>Findings</h2>`;
  if (f.status !== 'ok') {
    return `<section class="card" id="findings">${head}<p class="note info">${esc(`Findings are unavailable: ${f.note ?? 'no detections ran'}.`)}</p></section>`;
  }
  if (f.items.length === 0) {
    return `<section class="card" id="findings">${head}<p class="note ok">No detection fired in this period.</p></section>`;
  }
  const rows = f.items.map((x) => findingRow(x, report)).join('\n');
  return `<section class="card table" id="findings">
<div class="toolbar"><div>${head}<p class="lead">What keytrail's detections flagged in this period, worst first. <span class="mono">keytrail detect --format json</span> gives the same list as data.</p></div></div>
<div class="scroll"><table class="sortable" id="findings-table">
<thead><tr>${th('Severity', 'num')}${th('Finding', 'text')}${th('Principal', 'text')}${th('Key', 'text')}${th('Source IP', 'text')}${th('First seen', 'text')}${th('Events', 'num')}</tr></thead>
<tbody>
${rows}
</tbody></table></div></section>`;
}

function findingRow(f: Finding, report: Report): string {
  const rank = 3 - SEVERITY_ORDER.indexOf(f.severity);
  const span = f.first_seen && f.last_seen && f.last_seen !== f.first_seen
    ? `<span class="sub">until ${esc(f.last_seen.replace('T', ' ').slice(0, 16))}</span>` : '';
  return `<tr class="row-${esc(f.severity)}" data-rule="${esc(f.rule)}">` +
    `<td data-v="${rank}"><span class="badge sev-${esc(f.severity)}">${esc(f.severity)}</span></td>` +
    `<td class="finding" data-v="${esc(f.title)}"><div class="name">${esc(f.title)}</div>` +
    `<div class="detail">${esc(f.detail ?? '')}</div><div class="sub mono">${esc(f.rule)}${f.account_id ? ` · account ${esc(f.account_id)}` : ''}</div></td>` +
    identityCell(f.identity_arn, report) +
    keyCell(f.key_arn, false, true) +
    `<td class="mono">${f.source_ip ? esc(f.source_ip) : '<span class="muted">—</span>'}</td>` +
    `<td class="when" data-v="${esc(f.first_seen ?? '')}">${esc((f.first_seen ?? '').replace('T', ' ').slice(0, 16))}${span}</td>` +
    `<td class="num" data-v="${f.event_count}">${formatInt(f.event_count)}</td></tr>`;
}

// ---- activity over time ------------------------------------------------------------------------

function activitySection(report: Report): string {
  const totals = totalSeries(report);
  const principals = principalSeries(report);
  const keys = keySeries(report);
  return `<section class="card charts" id="activity">
<h2>Activity over time</h2>
<p class="lead">Calls per UTC day. Hover a bar or a point for its numbers.</p>
${barChart('totals', 'KMS calls per day, failed calls in red', totals.days, totals.series[0].values, totals.errors)}
<ul class="legend"><li><span class="sw all"></span>Successful calls</li><li><span class="sw err"></span>Failed calls (errorCode set)</li></ul>
<h3>Busiest principals</h3>
<p class="lead">The ${esc(formatInt(principals.series.length))} principals with the most calls, each on its own scale.</p>
${smallMultiples('principals', principals, (s) => {
    const label = identityLabel(s.id || null);
    return { name: label.name, sub: [label.kind, label.account].filter(Boolean).join(' · ') };
  })}
<h3>Most used keys</h3>
<p class="lead">The ${esc(formatInt(keys.series.length))} keys with the most calls, each on its own scale.</p>
${smallMultiples('keys', keys, (s) => {
    const k = keyLabel(s.id);
    return { name: k.id, sub: [k.region, k.account].filter(Boolean).join(' · ') };
  })}
</section>`;
}

function smallMultiples(kind: string, daily: DailySeries, label: (s: Series) => { name: string; sub: string }): string {
  const cards = daily.series.map((s, i) => {
    const { name, sub } = label(s);
    const peak = Math.max(0, ...s.values);
    const peakDay = daily.days[s.values.indexOf(peak)];
    return `<figure class="mini" title="${esc(s.id)}"><figcaption><span class="name">${esc(name)}</span>` +
      `<span class="sub">${esc(sub)}</span><span class="sub">${esc(formatInt(s.total))} calls · peak ${esc(formatInt(peak))}${peakDay ? ` on ${esc(shortDay(peakDay))}` : ''}</span></figcaption>` +
      `${sparkChart(kind, s, daily.days, i)}</figure>`;
  });
  return `<div class="minis" data-multiples="${esc(kind)}">${cards.join('')}</div>`;
}

// ---- principals --------------------------------------------------------------------------------

function principalsSection(report: Report): string {
  const ops = groupBy(report.principal_operations, (o) => o.identity_arn ?? '');
  const rows = report.principals.map((p) => principalRow(p, report, ops.get(p.identity_arn ?? '') ?? [])).join('\n');
  return `<section class="card table" id="principals">
<div class="toolbar"><div><h2>Principals <span class="muted" id="principals-count">${formatInt(report.principals.length)}</span></h2>
<p class="lead">Who called KMS, and how. Assumed-role sessions are counted under their role. Click a column to sort; hover the calls for every operation.</p></div>
<input class="filter" type="search" placeholder="Filter principals…" aria-label="Filter principals" data-table="principals-table" data-count="principals-count"></div>
<div class="scroll"><table class="sortable" id="principals-table">
<thead><tr>${th('Principal', 'text', undefined, 'wide')}${th('Calls', 'num')}${th('Decrypt', 'num')}${th('Encrypt', 'num')}${th('Data keys', 'num', 'GenerateDataKey and its variants')}${th('Other crypto', 'num', 'ReEncrypt, Sign, Verify, GenerateMac, ...')}${th('Describe / list', 'num', 'Read-only calls: DescribeKey, List*, Get*')}${th('Changes', 'num', 'Calls that change keys, policies, grants, aliases, rotation or tags')}${th('Keys', 'num')}${th('Source IPs', 'num')}${th('Errors', 'num')}${th('First seen', 'text')}${th('Last seen', 'text')}${th('Busiest day', 'num')}</tr></thead>
<tbody>
${rows}
</tbody></table></div></section>`;
}

function principalRow(p: PrincipalRow, report: Report, ops: Array<{ event_name: string; calls: number }>): string {
  return `<tr data-identity="${esc(p.identity_arn ?? '')}" data-search="${esc((p.identity_arn ?? '').toLowerCase())}">` +
    identityCell(p.identity_arn, report, p.principal_type) +
    `<td class="num strong" data-v="${p.calls}" data-col="calls" title="${esc(operationsText(ops, 99))}">${formatInt(p.calls)}</td>` +
    numCell(p.decrypt, 'decrypt') + numCell(p.encrypt, 'encrypt') + numCell(p.generate_data_key, 'generate_data_key') +
    numCell(p.other_crypto, 'other_crypto') + numCell(p.describe_list, 'describe_list') + numCell(p.management, 'management') +
    numCell(p.keys, 'keys') + numCell(p.source_ips, 'source_ips') +
    `<td class="num${p.errors ? ' bad' : ''}" data-v="${p.errors}" data-col="errors">${p.errors ? `${formatInt(p.errors)}<span class="sub">${esc(formatPercent(p.error_rate))}</span>` : '<span class="muted">0</span>'}</td>` +
    timeCell(p.first_seen) + timeCell(p.last_seen) +
    `<td class="num" data-v="${p.busiest_day_calls}" data-col="busiest_day_calls" data-day="${esc(p.busiest_day ?? '')}">${formatInt(p.busiest_day_calls)}<span class="sub">${esc(p.busiest_day ? shortDay(p.busiest_day) : '')}</span></td>` +
    '</tr>';
}

// ---- keys --------------------------------------------------------------------------------------

function keysSection(report: Report): string {
  const callers = groupBy(report.key_callers, (c) => c.key_arn);
  const ops = groupBy(report.key_operations, (o) => o.key_arn);
  const rows = report.keys.map((k) => keyRow(k, report, callers.get(k.key_arn) ?? [], ops.get(k.key_arn) ?? [])).join('\n');
  const stateNote = report.key_state_available
    ? 'State, rotation and the last policy change are as of the newest event in the database.'
    : 'Key state is unavailable: the database has no kms_key_state view.';
  return `<section class="card table" id="keys">
<div class="toolbar"><div><h2>Keys <span class="muted" id="keys-count">${formatInt(report.keys.length)}</span></h2>
<p class="lead">Which keys were used, by whom and how. ${esc(stateNote)}</p></div>
<input class="filter" type="search" placeholder="Filter keys or callers…" aria-label="Filter keys" data-table="keys-table" data-count="keys-count"></div>
<div class="scroll"><table class="sortable" id="keys-table">
<thead><tr>${th('Key', 'text', undefined, 'wide')}${th('State', 'text', 'Key state; below it, automatic rotation')}${th('Calls', 'num')}${th('Decrypt', 'num')}${th('Encrypt', 'num')}${th('Data keys', 'num', 'GenerateDataKey and its variants')}${th('Errors', 'num')}${th('Callers', 'num')}${th('Top callers', 'text', undefined, 'wide')}${th('Last policy change', 'text')}${th('Last used', 'text')}</tr></thead>
<tbody>
${rows}
</tbody></table></div></section>`;
}

function keyRow(k: KeyRow, report: Report, callers: KeyCallerRow[], ops: Array<{ event_name: string; calls: number }>): string {
  const caller = (c: KeyCallerRow) =>
    `<span title="${esc(c.identity_arn ?? '')}">${esc(identityLabel(c.identity_arn).name)}</span><span class="muted">${esc(formatInt(c.calls))}</span>`;
  const top = callers.slice(0, 3).map((c) => `<div class="caller">${caller(c)}</div>`).join('');
  const more = callers.length > 3
    ? `<details><summary>all ${formatInt(callers.length)} callers</summary><ul>${callers.slice(3).map((c) => `<li class="caller">${caller(c)}</li>`).join('')}</ul></details>`
    : '';
  const state = k.key_state ?? (report.key_state_available ? 'unknown' : '—');
  const deletion = k.deletion_date ? `<span class="sub">deletion due ${esc(k.deletion_date.slice(0, 10))}</span>` : '';
  const rotation = k.rotation ? `<span class="sub">rotation ${esc(k.rotation)}</span>` : '';
  const policy = k.last_policy_change
    ? `${esc(k.last_policy_change.slice(0, 10))}${k.last_policy_changed_by ? `<span class="sub by" title="${esc(k.last_policy_changed_by)}">by ${esc(identityLabel(k.last_policy_changed_by).name)}</span>` : ''}`
    : '<span class="muted">—</span>';
  const searchable = [k.key_arn, ...callers.map((c) => c.identity_arn ?? '')].join(' ').toLowerCase();
  return `<tr data-key="${esc(k.key_arn)}" data-search="${esc(searchable)}">` +
    keyCell(k.key_arn, isExternalAccount(k.key_account, report)) +
    `<td class="state-cell" data-v="${esc(state)}"><span class="state state-${esc(/^[A-Za-z]+$/.test(state) ? state : 'unknown')}">${esc(state)}</span>${deletion}${rotation}</td>` +
    `<td class="num strong" data-v="${k.calls}" data-col="calls" title="${esc(operationsText(ops, 99))}">${formatInt(k.calls)}</td>` +
    numCell(k.decrypt, 'decrypt') + numCell(k.encrypt, 'encrypt') + numCell(k.generate_data_key, 'generate_data_key') +
    `<td class="num${k.errors ? ' bad' : ''}" data-v="${k.errors}" data-col="errors">${k.errors ? formatInt(k.errors) : '<span class="muted">0</span>'}</td>` +
    numCell(k.callers, 'callers') +
    `<td class="callers">${top}${more}</td>` +
    `<td class="when" data-v="${esc(k.last_policy_change ?? '')}">${policy}</td>` +
    timeCell(k.last_seen) +
    '</tr>';
}

/** The live audit's view of every key; nothing when the database holds no audit. */
function keyConfigSection(report: Report): string {
  if (report.key_configuration.length === 0) return '';
  const cell = (v: string | null) => `<td>${v ? esc(v) : '<span class="muted">—</span>'}</td>`;
  const rows = report.key_configuration.map((k) => `<tr>${keyCell(k.key_arn)}${cell(k.aliases)}` +
    `<td><span class="state state-${esc(/^[A-Za-z]+$/.test(k.key_state ?? '') ? k.key_state! : 'unknown')}">${esc(k.key_state ?? 'unknown')}</span></td>` +
    `${cell(k.key_manager)}${cell(k.key_spec)}${cell(k.origin)}${cell(k.rotation)}${timeCell(k.deletion_date)}${timeCell(k.material_expires)}` +
    `${numCell(k.grants)}${cell(k.tags)}<td class="${k.unreadable ? 'bad' : ''}">${k.unreadable ? esc(k.unreadable) : '<span class="muted">—</span>'}</td>${cell(k.can_use)}${cell(k.used_by)}</tr>`).join('\n');
  return `<section class="card table" id="key-configuration">
<h2>Key configuration <span class="muted">${formatInt(report.key_configuration.length)}</span></h2>
<p class="lead">Every key as the latest keytrail keys audit read it through the KMS API (audited ${esc(report.key_configuration[0].audited_at)}), used or not: who can use it (key policy, IAM policies, grants) and who did in the period.</p>
<div class="scroll"><table class="sortable" id="key-configuration-table">
<thead><tr>${th('Key', 'text', undefined, 'wide')}${th('Aliases', 'text')}${th('State', 'text')}${th('Manager', 'text')}${th('Spec', 'text')}${th('Origin', 'text')}${th('Rotation', 'text')}${th('Deletion', 'text')}${th('Material expires', 'text')}${th('Grants', 'num')}${th('Tags', 'text')}${th('Could not read', 'text')}${th('Can use', 'text')}${th('Used by', 'text')}</tr></thead>
<tbody>
${rows}
</tbody></table></div></section>`;
}

// ---- accounts and regions; about ---------------------------------------------------------------

function scopeSection(report: Report): string {
  const rows = report.scope.map((s) => `<tr><td class="mono">${esc(s.account_id ?? '—')}</td><td class="mono">${esc(s.aws_region ?? '—')}</td>` +
    `${numCell(s.calls, 'calls')}${numCell(s.principals)}${numCell(s.keys)}${numCell(s.errors)}${timeCell(s.first_event)}${timeCell(s.last_event)}</tr>`).join('\n');
  return `<section class="card table" id="scope">
<h2>Accounts and regions</h2>
<p class="lead">Where the calls were recorded (the trail's recipient account and the call's region).</p>
<div class="scroll"><table class="sortable" id="scope-table">
<thead><tr>${th('Account', 'text')}${th('Region', 'text')}${th('Calls', 'num')}${th('Principals', 'num')}${th('Keys', 'num')}${th('Errors', 'num')}${th('First event', 'text')}${th('Last event', 'text')}</tr></thead>
<tbody>
${rows}
</tbody></table></div></section>`;
}

/** What the numbers rest on (keytrail verify, ingest --verify); nothing when verification never ran. */
function integritySection(report: Report): string {
  const i = report.integrity;
  if (!i) return '';
  const statuses = i.statuses.map((r) => `<tr><td>${esc(r.kind)}</td><td>${esc(r.status)}</td>${numCell(r.objects)}</tr>`).join('\n');
  const failed = i.failed.map((f) => `<tr><td class="mono">${esc(f.object_uri)}</td><td>${esc(f.kind)}</td><td>${esc(f.problem ?? '')}</td><td>${esc(f.detail ?? '')}</td></tr>`).join('\n');
  const gaps = i.delivery_gaps.map((g) => `<tr><td class="mono">${esc(g.account_id)}</td><td class="mono">${esc(g.aws_region)}</td><td>${esc(g.trail)}</td>` +
    `${numCell(g.gaps)}${numCell(g.hours)}<td>${esc(g.first_gap)}</td><td>${esc(g.last_gap_end)}</td></tr>`).join('\n');
  const resting = i.findings.tampered + i.findings.unverified > 0
    ? `<p class="note">${esc(`${i.findings.tampered} finding(s) rest on objects that failed verification, ${i.findings.unverified} on objects no valid digest vouches for.`)}</p>` : '';
  return `<section class="card table" id="integrity">
<h2>Integrity</h2>
<p class="lead">Verification of the CloudTrail objects behind these numbers (digest chain, signatures, SHA-256 of each log).${i.unchecked_logs > 0 ? esc(` ${i.unchecked_logs} loaded log object(s) from verified sources were never verified.`) : ''}</p>
${resting}
<div class="scroll"><table id="integrity-table"><thead><tr>${th('Kind', 'text')}${th('Status', 'text')}${th('Objects', 'num')}</tr></thead>
<tbody>
${statuses}
</tbody></table></div>
${failed ? `<h3>Failed verification</h3>
<div class="scroll"><table id="integrity-failed"><thead><tr>${th('Object', 'text')}${th('Kind', 'text')}${th('Problem', 'text')}${th('Detail', 'text')}</tr></thead>
<tbody>
${failed}
</tbody></table></div>` : ''}
<h3>Delivery gaps</h3>
${gaps ? `<div class="scroll"><table id="integrity-gaps"><thead><tr>${th('Account', 'text')}${th('Region', 'text')}${th('Trail', 'text')}${th('Gaps', 'num')}${th('Hours', 'num')}${th('First gap', 'text')}${th('Last gap ends', 'text')}</tr></thead>
<tbody>
${gaps}
</tbody></table></div>` : '<p>None: a digest for every hour.</p>'}
</section>`;
}

function aboutSection(report: Report): string {
  const ingest = report.ingest
    ? `<li>The database holds ${esc(formatInt(report.ingest.objects - report.ingest.event_history_days))} CloudTrail log objects${report.ingest.event_history_days > 0 ? ` and ${esc(formatInt(report.ingest.event_history_days))} region-days of CloudTrail Event history` : ''}${report.ingest.last_ingest ? `, last loaded ${esc(report.ingest.last_ingest.slice(0, 16))} UTC` : ''}.</li>`
    : '';
  return `<section class="card" id="about">
<h2>How to read this report</h2>
<ul class="about">
<li>Every number counts KMS events in CloudTrail (eventSource kms.amazonaws.com)${report.meta.first_day && report.meta.last_day ? ` from ${esc(humanDay(report.meta.first_day))} to ${esc(humanDay(report.meta.last_day))}, UTC days` : ''}${report.meta.account ? `, delivered to account ${esc(report.meta.account)}` : ''}.</li>
<li>A principal is the stable caller: the IAM role for assumed-role sessions, else the IAM user, the root user or the AWS service. “From other accounts” means a principal whose account is not one of the accounts above.</li>
<li>Failed calls are events CloudTrail recorded with an error code (AccessDenied and others). The Changes column counts calls that change a key, its policy, grants, aliases, rotation or tags; Describe / list counts read-only calls.</li>
<li>Findings come from keytrail's detections (keytrail detect), run on the same database and kept when they start in the period.</li>
${ingest}
</ul>
</section>`;
}

// ---- cells -------------------------------------------------------------------------------------

function th(label: string, type: 'num' | 'text', title?: string, cls?: string): string {
  const classes = [type === 'num' ? 'num' : '', cls ?? ''].filter(Boolean).join(' ');
  return `<th scope="col" data-type="${type}"${classes ? ` class="${classes}"` : ''}${title ? ` title="${esc(title)}"` : ''}><button type="button">${esc(label)}</button></th>`;
}

function numCell(n: number, col?: string): string {
  return `<td class="num" data-v="${n}"${col ? ` data-col="${esc(col)}"` : ''}>${n === 0 ? '<span class="muted">0</span>' : formatInt(n)}</td>`;
}

function timeCell(value: string | null): string {
  if (!value) return '<td class="when" data-v=""><span class="muted">—</span></td>';
  const t = value.replace('T', ' ').replace('Z', '');
  return `<td class="when" data-v="${esc(t)}" title="${esc(`${t} UTC`)}">${esc(t.slice(0, 10))}<span class="sub">${esc(t.slice(11, 16))}</span></td>`;
}

function principalAccount(p: PrincipalRow): string | null {
  return identityLabel(p.identity_arn).account ?? p.principal_account;
}

function identityCell(arn: string | null, report: Report, type?: string | null): string {
  if (!arn) return '<td data-v=""><span class="muted">—</span></td>';
  const label = identityLabel(arn);
  const tags: string[] = [];
  if (isExternalAccount(label.account, report)) tags.push('<span class="tag warn">other account</span>');
  if (label.kind === 'root user') tags.push('<span class="tag bad">root</span>');
  const kind = label.kind === 'role' && type === 'AssumedRole' ? 'role' : label.kind;
  return `<td data-v="${esc(arn)}" title="${esc(arn)}"><div class="name">${esc(label.name)}</div>` +
    `<div class="sub">${esc(kind)}${label.account ? ` · ${esc(label.account)}` : ''}${tags.join('')}</div></td>`;
}

function keyCell(arn: string | null, external = false, short = false): string {
  if (!arn) return '<td data-v=""><span class="muted">—</span></td>';
  const k = keyLabel(arn);
  const where = [k.region, k.account].filter((x): x is string => x !== null).join(' · ');
  const id = short && k.id.length > 13 ? `${k.id.slice(0, 13)}…` : k.id;
  return `<td class="key" data-v="${esc(arn)}" title="${esc(arn)}"><div class="name mono">${esc(id)}</div>` +
    `<div class="sub">${esc(where)}${external ? '<span class="tag warn">other account</span>' : ''}</div></td>`;
}
