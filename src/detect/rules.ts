// Detection rules: one SQL file each in queries/detections/, with a metadata header.
//
//   -- id: volume_spike                       (required; the file name without .sql)
//   -- title: One line                        (required)
//   -- severity: low | medium | high          (required; the most a finding of the rule can be: a rule
//                                             may return a `severity` column after the common ones to
//                                             report a finding lower, see SEVERITY_COLUMN)
//   -- description: What it finds and why;    (required; indented `--` lines continue a field)
//   --   continued here.
//   -- attack: T1485, T1555.006               (required; MITRE ATT&CK technique ids, carried by findings;
//                                             'none' for a hygiene check that names no technique)
//   -- params: baseline_days=14, factor=10    (optional; defaults, bound as $baseline_days ...)
//   -- analyze: key_policy | grant            (optional; a TypeScript post-step, see analyze.ts)
//   -- dialect: how the Trino/Athena form differs (optional, free text)
//
// The header is the leading block of `--` lines. Other comment lines are free text, but a line
// that looks like a field (`-- word:`) with an unknown lowercase name is an error, so a typo such
// as `-- parms:` cannot silently drop the parameters.

import { readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { queriesDir } from '../paths.js';
import { SEVERITIES, type Severity } from './severity.js';
import { ANALYZERS, type AnalyzerName } from './analyze.js';

export { SEVERITIES, type Severity } from './severity.js';

/** Bound by the runner for every rule: the reporting start, and the trusted accounts as 'id,id,...'. */
export const BUILTIN_PARAMS = ['since', 'trusted_accounts'] as const;

/** The columns every detection returns, in this order. */
export const FINDING_COLUMNS = [
  'identity_arn', 'source_ip', 'key_arn', 'account_id', 'first_seen', 'last_seen', 'event_count', 'detail',
] as const;

/**
 * Optional last column: the finding's own severity (low, medium, high; NULL is the header's), for
 * rules whose incidents range in weight (a routine BYOK import is low, a ransom key set up is high).
 * It may not exceed the header's severity, so `detect --list` shows the worst a rule reports.
 */
export const SEVERITY_COLUMN = 'severity';

export interface RuleParam {
  name: string;
  /** The header's default: a number when it reads as one, else text. */
  default: number | string;
}

export interface Rule {
  id: string;
  title: string;
  severity: Severity;
  description: string;
  /** MITRE ATT&CK techniques the rule watches for ('T1485', 'T1555.006'). */
  attack: string[];
  params: RuleParam[];
  analyze: AnalyzerName | null;
  dialect: string | null;
  /** The SQL to run: the file without its comments, so only the parameters it uses are bound. */
  sql: string;
  /** The file's full text, header included. */
  text: string;
  file: string;
}

/** A rule file that cannot be used: says which file and why. */
export class RuleError extends Error {}

export const detectionsDir = join(queriesDir, 'detections');

const FIELDS = ['id', 'title', 'severity', 'description', 'attack', 'params', 'analyze', 'dialect'] as const;
type Field = (typeof FIELDS)[number];
const FIELD_RE = /^--\s?([a-z][a-z_]*):\s*(.*)$/;
const CONTINUATION_RE = /^--\s{2,}(\S.*)$/;
const ID_RE = /^[a-z][a-z0-9_]*$/;
const PARAM_NAME_RE = /^[a-z][a-z0-9_]*$/;
const TECHNIQUE_RE = /^T\d{4}(\.\d{3})?$/;

/** Every rule in `dir` (default queries/detections), sorted by id. */
export function loadRules(dir: string = detectionsDir): Rule[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.sql')).sort();
  return files.map((f) => parseRule(readFileSync(join(dir, f), 'utf8'), join(dir, f)));
}

/** Parses and checks one rule file. `file` names it in errors; its base name must equal the id. */
export function parseRule(text: string, file: string): Rule {
  const fail = (why: string): never => {
    throw new RuleError(`${file}: ${why}`);
  };
  const fields = new Map<Field, string>();
  let last: Field | null = null;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trimEnd();
    if (line.trim() === '') {
      if (fields.size === 0) continue; // blank lines before the header
      break;
    }
    if (!line.startsWith('--')) break;
    const field = FIELD_RE.exec(line);
    if (field) {
      const name = field[1] as Field;
      if (!FIELDS.includes(name)) fail(`unknown header field '${field[1]}' (known: ${FIELDS.join(', ')})`);
      if (fields.has(name)) fail(`header field '${name}' appears twice`);
      fields.set(name, field[2].trim());
      last = name;
      continue;
    }
    const more = CONTINUATION_RE.exec(line);
    if (more && last) {
      fields.set(last, `${fields.get(last)} ${more[1].trim()}`.trim());
      continue;
    }
    last = null; // a free comment line ends the field before it
  }

  const required = (name: Field): string => {
    const v = fields.get(name);
    if (!v) fail(`the header has no '-- ${name}:' line`);
    return v!;
  };
  const id = required('id');
  if (!ID_RE.test(id)) fail(`id '${id}' must be lowercase letters, digits and _`);
  const expected = basename(file).replace(/\.sql$/, '');
  if (expected !== id && file.endsWith('.sql')) fail(`id '${id}' does not match the file name '${expected}.sql'`);
  const title = required('title');
  const severity = required('severity');
  if (!SEVERITIES.includes(severity as Severity)) fail(`severity '${severity}' is not one of ${SEVERITIES.join(', ')}`);
  const description = required('description');
  // 'none' for a hygiene check that names no technique (a key nobody uses).
  const attackText = required('attack');
  const attack = attackText === 'none' ? [] : attackText.split(',').map((t) => t.trim());
  for (const t of attack) if (!TECHNIQUE_RE.test(t)) fail(`attack: '${t}' is not a MITRE ATT&CK technique id (T1485, T1555.006)`);
  const params = parseParams(fields.get('params') ?? '', fail);
  const analyzeText = fields.get('analyze') ?? null;
  if (analyzeText !== null && !(analyzeText in ANALYZERS)) {
    fail(`analyze '${analyzeText}' is not one of ${Object.keys(ANALYZERS).join(', ')}`);
  }

  const sql = stripComments(text).trim();
  if (sql === '') fail('there is no SQL after the header');
  const used = referencedParams(sql);
  const declared = new Set(params.map((p) => p.name));
  for (const name of used) {
    if (!declared.has(name) && !(BUILTIN_PARAMS as readonly string[]).includes(name)) {
      fail(`the SQL uses $${name}, which is neither in '-- params:' nor one of ${BUILTIN_PARAMS.map((b) => `$${b}`).join(', ')}`);
    }
  }
  for (const p of params) if (!used.has(p.name)) fail(`parameter '${p.name}' is declared but the SQL never uses $${p.name}`);

  return {
    id, title, severity: severity as Severity, description, attack, params,
    analyze: analyzeText as AnalyzerName | null, dialect: fields.get('dialect') ?? null,
    sql, text, file,
  };
}

function parseParams(text: string, fail: (why: string) => never): RuleParam[] {
  if (text.trim() === '') return [];
  const params: RuleParam[] = [];
  for (const part of text.split(',')) {
    const m = /^\s*([^=\s]+)\s*=\s*(.*?)\s*$/.exec(part);
    if (!m) fail(`params: '${part.trim()}' is not name=default`);
    const [, name, value] = m!;
    if (!PARAM_NAME_RE.test(name)) fail(`params: '${name}' must be lowercase letters, digits and _`);
    if ((BUILTIN_PARAMS as readonly string[]).includes(name)) fail(`params: '${name}' is bound by the runner and cannot be declared`);
    if (params.some((p) => p.name === name)) fail(`params: '${name}' is declared twice`);
    params.push({ name, default: typedValue(value) });
  }
  return params;
}

/** '14' -> 14, '2.5' -> 2.5, anything else stays text. */
export function typedValue(value: string): number | string {
  return /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
}

/**
 * The SQL without `--` and block comments (string literals and quoted names are left intact),
 * so that parameter names mentioned in comments are neither bound nor required.
 */
export function stripComments(sql: string): string {
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const c = sql[i];
    if (c === "'" || c === '"') {
      const end = closing(sql, i, c);
      out += sql.slice(i, end);
      i = end;
    } else if (c === '-' && sql[i + 1] === '-') {
      while (i < sql.length && sql[i] !== '\n') i++;
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? sql.length : end + 2;
      out += ' ';
    } else {
      out += c;
      i++;
    }
  }
  // Drop the blank lines left where whole-line comments were.
  return out.split('\n').map((l) => l.trimEnd()).filter((l, n, all) => l !== '' || (n > 0 && all[n - 1] !== '')).join('\n');
}

/** Index just past the quote that closes the literal opened at `start` (doubled quotes escape). */
function closing(sql: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < sql.length) {
    if (sql[i] === quote) {
      if (sql[i + 1] === quote) i += 2;
      else return i + 1;
    } else i++;
  }
  return sql.length;
}

/** `$name` parameters used outside string literals. */
export function referencedParams(sql: string): Set<string> {
  const names = new Set<string>();
  let i = 0;
  while (i < sql.length) {
    const c = sql[i];
    if (c === "'" || c === '"') {
      i = closing(sql, i, c);
      continue;
    }
    if (c === '$') {
      const m = /^\$([A-Za-z_][A-Za-z0-9_]*)/.exec(sql.slice(i));
      if (m) {
        names.add(m[1]);
        i += m[0].length;
        continue;
      }
    }
    i++;
  }
  return names;
}
