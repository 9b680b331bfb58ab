// Report sections: one SQL file each in queries/reports/, with a header in the dbt way.
//
//   -- section: principals                  (required; the file name without .sql)
//   -- title: Usage per principal            (required)
//   -- description: What a row is;           (indented `--` lines continue a field)
//   -- requires: kms_key_state               (optional: a table or view that must exist, else the
//                                             section is skipped and the report says so)
//   -- dialect: how the Trino/Athena form differs (optional, free text)
//
// Every section binds the same parameters: $since, $until (UTC 'YYYY-MM-DD HH:MM:SS', $until
// exclusive, NULL for no bound), $account (NULL for all) and $top.

import { readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { queriesDir } from '../paths.js';

export interface SectionQuery {
  id: string;
  title: string;
  description: string;
  requires: string | null;
  dialect: string | null;
  /** The SQL without comments, so only the parameters it uses are bound. */
  sql: string;
  file: string;
}

export class SectionError extends Error {}

export const reportsDir = join(queriesDir, 'reports');

const FIELDS = new Set(['section', 'title', 'description', 'requires', 'dialect']);

export function loadSections(dir: string = reportsDir): Map<string, SectionQuery> {
  const sections = new Map<string, SectionQuery>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.sql')).sort()) {
    const section = parseSection(readFileSync(join(dir, file), 'utf8'), join(dir, file));
    sections.set(section.id, section);
  }
  return sections;
}

export function parseSection(text: string, file: string): SectionQuery {
  const fields = new Map<string, string>();
  let last: string | null = null;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trimEnd();
    if (!line.startsWith('--')) break;
    const field = /^--\s?([a-z][a-z_]*):\s*(.*)$/.exec(line);
    if (field && FIELDS.has(field[1])) {
      fields.set(field[1], field[2].trim());
      last = field[1];
      continue;
    }
    const more = /^--\s{2,}(\S.*)$/.exec(line);
    if (more && last) fields.set(last, `${fields.get(last)} ${more[1].trim()}`);
    else last = null;
  }
  const id = fields.get('section');
  if (!id) throw new SectionError(`${file}: the header has no '-- section:' line`);
  if (id !== basename(file, '.sql')) throw new SectionError(`${file}: section '${id}' does not match the file name`);
  const title = fields.get('title');
  if (!title) throw new SectionError(`${file}: the header has no '-- title:' line`);
  return {
    id, title, description: fields.get('description') ?? '', requires: fields.get('requires') ?? null,
    dialect: fields.get('dialect') ?? null, sql: stripComments(text), file,
  };
}

/** The SQL without `--` comments (string literals and quoted names kept), blank lines dropped. */
export function stripComments(sql: string): string {
  let out = '';
  for (let i = 0; i < sql.length; ) {
    const c = sql[i];
    if (c === "'" || c === '"') {
      let j = i + 1;
      while (j < sql.length && !(sql[j] === c && sql[j + 1] !== c)) j += sql[j] === c ? 2 : 1;
      out += sql.slice(i, j + 1);
      i = j + 1;
    } else if (c === '-' && sql[i + 1] === '-') {
      while (i < sql.length && sql[i] !== '\n') i++;
    } else {
      out += c;
      i++;
    }
  }
  return out.split('\n').map((l) => l.trimEnd()).filter((l) => l !== '').join('\n');
}
