// detect --explain: how a rule behaves on this database, so a user can tune it on their own data.
// The rule runs with its current parameters (defaults, then --param), then once with each numeric
// parameter halved and once doubled, the others unchanged.

import type { QueryEngine } from '../engine.js';
import type { Rule } from './rules.js';
import { runRule, type RunOptions } from './run.js';

export interface ParamValue {
  name: string;
  default: number | string;
  /** The value used: the default, or its --param override. */
  value: number | string;
}

export interface ParamTrial {
  name: string;
  change: 'halved' | 'doubled';
  value: number;
  findings: number;
}

export interface Explanation {
  rule: string;
  /** The rule file's header, as written. */
  header: string;
  params: ParamValue[];
  /** Findings with the current parameters. */
  findings: number;
  trials: ParamTrial[];
}

export async function explainRule(engine: QueryEngine, rule: Rule, options: RunOptions): Promise<Explanation> {
  const current = options.params?.[rule.id] ?? {};
  const params = rule.params.map((p) => ({ name: p.name, default: p.default, value: current[p.name] ?? p.default }));
  const count = async (overrides: Record<string, number | string>) =>
    (await runRule(engine, rule, { ...options, params: { ...options.params, [rule.id]: { ...current, ...overrides } } })).length;

  const trials: ParamTrial[] = [];
  for (const p of params) {
    if (typeof p.value !== 'number') continue; // text (a pattern): nothing to halve
    for (const change of ['halved', 'doubled'] as const) {
      const value = scaled(p.value, change === 'halved' ? 0.5 : 2, castsToInteger(rule.sql, p.name));
      trials.push({ name: p.name, change, value, findings: await count({ [p.name]: value }) });
    }
  }
  return { rule: rule.id, header: header(rule.text), params, findings: await count({}), trials };
}

/** Parameters the SQL casts to an integer (days, counts) stay integers; factors may be fractions. */
function scaled(value: number, factor: number, integer: boolean): number {
  const v = value * factor;
  return integer ? Math.round(v) : v;
}

function castsToInteger(sql: string, name: string): boolean {
  return new RegExp(`CAST\\(\\$${name} AS (INTEGER|BIGINT)\\)`, 'i').test(sql);
}

/** The leading block of `--` lines. */
function header(text: string): string {
  const lines: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '' && lines.length === 0) continue;
    if (!line.startsWith('--')) break;
    lines.push(line.trimEnd());
  }
  return lines.join('\n');
}

/** The explanation as text, for the terminal. */
export function formatExplanation(e: Explanation): string {
  const out = [e.header, ''];
  if (e.params.length === 0) {
    out.push(`parameters: none`, `findings on this database: ${e.findings}`);
    return out.join('\n');
  }
  out.push('parameters:');
  for (const p of e.params) out.push(`  ${p.name} = ${p.value}${p.value === p.default ? '' : ` (default ${p.default})`}`);
  out.push('', `findings on this database: ${e.findings} with these values`);
  const width = Math.max(...e.trials.map((t) => `${t.name} ${t.change} (${t.value})`.length), 0);
  for (const t of e.trials) out.push(`  ${`${t.name} ${t.change} (${t.value})`.padEnd(width)}  ${t.findings}`);
  const text = e.params.filter((p) => typeof p.value !== 'number').map((p) => p.name);
  if (text.length > 0) out.push(`  (${text.join(', ')}: text, not varied)`);
  return out.join('\n');
}
