// DuckDB SQL -> Trino SQL (Athena engine 3): the one translation step between the queries in
// queries/ and Athena. Small and explicit: a table of rewrites, each keeping DuckDB's meaning,
// and an error (naming the construct and what to write instead) for anything it does not know to
// be portable. It never guesses types; where a rewrite needs them, the query needs rewriting.
//
//   $name parameters    `?` + ExecutionParameters (Trino literals: 'text' quoted, numbers bare) in
//                       WHERE clauses, where Athena allows them; elsewhere (select lists, ON, HAVING)
//                       the same literal is written in place. NULL and booleans are always written.
//   regexp_matches(s, p)          regexp_like(s, p)
//   regexp_extract(s, p[, g])     Trino gives NULL where DuckDB gives '' (no match): coalesced to ''
//   json_extract_string(j, p)     json_extract_scalar(j, p), or the JSON text of an object/array as
//                                 DuckDB gives it: coalesce(json_extract_scalar, json_format(json_extract));
//                                 keys with other characters than [A-Za-z0-9_] in a literal path
//                                 become subscripts: '$.aws:s3:arn' -> '$["aws:s3:arn"]'
//   string_agg(x, sep ...)        array_join(array_agg(x) FILTER (WHERE x IS NOT NULL), sep); DISTINCT
//                                 with ORDER BY x sorts with array_sort (reverse for DESC)
//   median(x), quantile_cont(x, 0.5)  exact median from the sorted array_agg (Trino has only
//                                 approx_percentile), the mean of the two middle values as in DuckDB
//   date_diff(part, a, b)         DuckDB counts part boundaries crossed, Trino whole parts elapsed:
//                                 date_diff(part, date_trunc(part, a), date_trunc(part, b))
//   CAST(x AS VARCHAR)            Trino writes doubles as 2.5E0: IF(x IS NULL, NULL, format('%s', x)),
//                                 which prints numbers, dates and text as DuckDB does (not timestamps)
//   CAST(x AS JSON)               json_parse(x);  x::T  CAST(x AS T);  DuckDB type names -> Trino's
//   TRY_CAST(s AS TIMESTAMPTZ)    try(from_iso8601_timestamp(s)): ISO 8601 text, NULL when no real time
//   to_json(x)                    json_format(CAST(x AS JSON)); list_extract(l, i) element_at(l, i)
//   TIMESTAMP '...T...Z'          TIMESTAMP '... ...';  INTERVAL 30 DAY / '30 days'  INTERVAL '30' DAY
//   max_by/min_by (arg_max/arg_min)  Trino keeps a NULL value DuckDB skips: FILTER (WHERE x IS NOT NULL)
//   any_value arbitrary; list_contains contains; list_value / [..]
//   ARRAY[..]; list_sort array_sort; list_distinct array_distinct; array_length cardinality;
//   string_split split; strftime date_format (format letters converted); epoch to_unixtime;
//   printf format; md5/sha256 of text lower(to_hex(md5(to_utf8(s)))); ifnull/nvl coalesce;
//   to_days(n) (n) * INTERVAL '1' DAY (and hours, minutes, seconds)
//   information_schema.tables     limited to the query's database (Athena lists every database)
//
// Refused, with the reason: GROUP BY ALL, ORDER BY ALL, QUALIFY, * EXCLUDE/REPLACE, ILIKE, //, **,
// ->>, list slices, greatest/least (NULL handling differs), concat (NULL handling differs), DuckDB's
// fmt-style format(), contains() (strings or lists?), len(), regexp_replace without 'g', strptime
// with several formats, and other functions listed in REFUSED below.
//
// Not detectable without types, so the queries must avoid them: integer / integer (DuckDB divides
// exactly, Trino truncates: cast one side to DOUBLE), || with a non-text operand (cast it),
// CAST(timestamp AS VARCHAR) (use strftime), and subscripts past the end of a list (Trino fails).

import type { SqlValue } from '../engine.js';
import {
  SqlSyntaxError, isBlank, isGroup, isOp, isToken, isWord, nextIndex, parseSql, prevIndex, render, splitArgs, trim,
  type Group, type Node, type Token,
} from './sql-lexer.js';

export class DialectError extends Error {}

export interface TrinoQuery {
  sql: string;
  /** ExecutionParameters: one Trino literal per `?` in `sql`, in order. */
  parameters: string[];
}

export interface DialectOptions {
  /** The Athena database the query runs in: information_schema lookups are limited to it. */
  database?: string;
}

/** A value as a Trino literal: 'text' (quotes doubled), numbers bare, true/false, NULL. */
export function trinoLiteral(value: SqlValue): string {
  if (value === null) return 'NULL';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new DialectError(`${value} cannot be a SQL parameter`);
    const text = String(value);
    return /e/i.test(text) ? value.toExponential().toUpperCase() : text;
  }
  return `'${value.replaceAll("'", "''")}'`;
}

/** Translates one DuckDB statement, binding `params` ($name) as Athena execution parameters. */
export function toTrino(sql: string, params: Record<string, SqlValue> = {}, options: DialectOptions = {}): TrinoQuery {
  let nodes: Node[];
  try {
    nodes = castOperators(parseSql(sql));
  } catch (err) {
    if (err instanceof SqlSyntaxError) throw new DialectError(err.message);
    throw err;
  }
  return new Translator(params, options).run(nodes);
}

// ---- the translator -----------------------------------------------------------------------------

type Clause = 'none' | 'select' | 'from' | 'where' | 'group' | 'having' | 'order' | 'limit' | 'on' | 'window' | 'with' | 'values' | 'filter';

const CLAUSE_WORDS: Record<string, Clause> = {
  select: 'select', from: 'from', join: 'from', using: 'from', where: 'where', group: 'group', having: 'having',
  order: 'order', limit: 'limit', offset: 'limit', on: 'on', window: 'window', with: 'with', values: 'values',
  partition: 'group', union: 'none', intersect: 'none', except: 'none',
};

/** Words after which `[` opens a list literal rather than a subscript. */
const KEYWORDS = new Set([
  'select', 'from', 'where', 'and', 'or', 'not', 'in', 'is', 'as', 'on', 'then', 'else', 'when', 'case', 'by', 'like',
  'between', 'return', 'with', 'having', 'distinct', 'all', 'any', 'some', 'exists', 'end', 'values', 'set', 'array',
  'over', 'join', 'using', 'within', 'lateral', 'limit', 'order', 'group', 'union', 'except', 'intersect',
]);

/** DuckDB functions with no faithful Trino form here, and what to write instead. */
const REFUSED: Record<string, string> = {
  greatest: 'DuckDB ignores NULL arguments, Trino returns NULL: use CASE or coalesce the arguments',
  least: 'DuckDB ignores NULL arguments, Trino returns NULL: use CASE or coalesce the arguments',
  concat: 'DuckDB skips NULL arguments, Trino returns NULL: use || with coalesce',
  format: "DuckDB's format() uses {} placeholders: use printf('%s', x)",
  contains: 'strings or lists? use strpos(s, x) > 0 for text, list_contains(l, x) for lists',
  len: 'use length(s) for text or array_length(l) for lists',
  list_reduce: 'the argument order differs from Trino reduce(): write a per-engine variant',
  generate_series: 'Trino has sequence(): write a per-engine variant',
  range: 'Trino has sequence(): write a per-engine variant',
  try_strptime: 'no Trino equivalent with several formats: write a per-engine variant',
  epoch_ms: 'use epoch(ts) * 1000',
  to_timestamp: 'Trino from_unixtime returns a zoned timestamp: write a per-engine variant',
  arg_max_null: 'no Trino equivalent: write a per-engine variant',
  arg_min_null: 'no Trino equivalent: write a per-engine variant',
  columns: 'COLUMNS() is DuckDB-only: name the columns',
  struct_pack: 'structs differ: write a per-engine variant',
  map: 'maps differ: write a per-engine variant',
  unnest: 'only FROM unnest(...) AS t(x) translates (Trino UNNEST); in a select list it does not',
  list_slice: 'use slice(l, start, length) in a per-engine variant',
};

const RENAMED: Record<string, string> = {
  regexp_matches: 'regexp_like', any_value: 'arbitrary', first: 'arbitrary', arg_max: 'max_by', arg_min: 'min_by',
  max_by: 'max_by', min_by: 'min_by', list_contains: 'contains', array_contains: 'contains', list_has: 'contains',
  list_sort: 'array_sort', list_distinct: 'array_distinct', array_length: 'cardinality', string_split: 'split',
  str_split: 'split', string_to_array: 'split', epoch: 'to_unixtime', printf: 'format', ifnull: 'coalesce',
  nvl: 'coalesce', iff: 'IF', list_filter: 'filter', list_transform: 'transform', array_filter: 'filter',
  array_transform: 'transform', list: 'array_agg', count_star: 'count', list_extract: 'element_at',
  array_extract: 'element_at',
};

/** Units DuckDB accepts (singular, plural, short) -> Trino's. */
const UNITS: Record<string, string> = {
  millisecond: 'millisecond', milliseconds: 'millisecond', ms: 'millisecond', msec: 'millisecond',
  second: 'second', seconds: 'second', s: 'second', sec: 'second', secs: 'second',
  minute: 'minute', minutes: 'minute', m: 'minute', min: 'minute', mins: 'minute',
  hour: 'hour', hours: 'hour', h: 'hour', hr: 'hour', hrs: 'hour',
  day: 'day', days: 'day', d: 'day',
  week: 'week', weeks: 'week', w: 'week',
  month: 'month', months: 'month', mon: 'month', mons: 'month',
  quarter: 'quarter', quarters: 'quarter',
  year: 'year', years: 'year', y: 'year', yr: 'year', yrs: 'year',
};

const DATE_PARTS = new Set(['year', 'quarter', 'month', 'week', 'day', 'hour', 'minute', 'second']);

/** strftime letters -> MySQL-style letters of Trino's date_format. */
const STRFTIME: Record<string, string> = {
  Y: '%Y', y: '%y', m: '%m', d: '%d', e: '%e', H: '%H', I: '%h', M: '%i', S: '%s', f: '%f', p: '%p', b: '%b',
  B: '%M', a: '%a', A: '%W', j: '%j', '%': '%%',
};

interface Emitted {
  text: string;
  /** Index of the last node consumed. */
  last: number;
}

class Translator {
  /** Values of the `?` markers, by marker number. */
  private readonly bound: SqlValue[] = [];

  constructor(private readonly params: Record<string, SqlValue>, private readonly options: DialectOptions) {}

  run(nodes: Node[]): TrinoQuery {
    let sql = this.items(nodes, 'none', false).trim().replace(/;\s*$/, '');
    if (/;/.test(sql.replace(/'(?:[^']|'')*'|"(?:[^"]|"")*"/g, ''))) throw new DialectError('one statement at a time: Athena runs one per query');
    const parameters: string[] = [];
    // Markers become `?` in the order they appear in the final text, which is the order Athena
    // binds ExecutionParameters in (a rewrite may repeat an argument, and with it its marker).
    sql = sql.replace(/\u0000(\d+)\u0000/g, (_, n: string) => {
      parameters.push(trinoLiteral(this.bound[Number(n)]));
      return '?';
    });
    return { sql, parameters };
  }

  /** Translates a list of nodes at one bracket level; `clause` is the clause they start in. */
  private items(nodes: Node[], start: Clause, inFilter: boolean): string {
    let clause = start;
    let out = '';
    for (let i = 0; i < nodes.length; i++) {
      const n = nodes[i];
      if (isGroup(n)) {
        out += this.group(nodes, i, clause);
        continue;
      }
      switch (n.kind) {
        case 'ws':
          out += n.text;
          break;
        case 'comment':
          out += n.text.startsWith('--') ? '' : ' ';
          break;
        case 'string':
        case 'qident':
        case 'number':
          out += n.text;
          break;
        case 'qmark':
          throw new DialectError(`a positional ? parameter at offset ${n.at}: name parameters ($name)`);
        case 'param':
          out += this.param(n, clause);
          break;
        case 'op':
          out += this.op(n);
          break;
        case 'word': {
          const word = n.text.toLowerCase();
          const isDistinctFrom = word === 'from' && isWord(nodes[prevIndex(nodes, i)], 'distinct'); // IS [NOT] DISTINCT FROM
          if (word in CLAUSE_WORDS && !(inFilter && word === 'where') && !isDistinctFrom) clause = CLAUSE_WORDS[word];
          const r = this.word(nodes, i, clause);
          out += r.text;
          i = r.last;
        }
      }
    }
    return out;
  }

  private group(nodes: Node[], i: number, clause: Clause): string {
    const g = nodes[i] as Group;
    if (g.open === '[') {
      const p = prevIndex(nodes, i);
      const prev = nodes[p];
      const subscript = p >= 0 && (isGroup(prev) || (isToken(prev) && ['word', 'qident', 'param'].includes(prev.kind) && !KEYWORDS.has(prev.text.toLowerCase())));
      if (subscript && g.items.some((x) => isOp(x, ':'))) throw new DialectError(`list slice at offset ${g.at}: not portable (Trino slice())`);
      return `${subscript ? '' : 'ARRAY'}[${this.items(g.items, clause, false)}]`;
    }
    return `(${this.items(g.items, clause, false)})`;
  }

  private param(t: Token, clause: Clause): string {
    const name = t.text.slice(1);
    const value = this.params[name];
    if (value === undefined) throw new DialectError(`$${name} has no value`);
    if (value === null || typeof value === 'boolean' || clause !== 'where') {
      const literal = trinoLiteral(value);
      return literal.startsWith('-') ? `(${literal})` : literal;
    }
    this.bound.push(value);
    return `\u0000${this.bound.length - 1}\u0000`;
  }

  private op(t: Token): string {
    switch (t.text) {
      case '::':
        throw new DialectError(`a :: cast at offset ${t.at} that could not be read: write CAST(x AS type)`);
      case '->>':
        throw new DialectError(`->> at offset ${t.at}: use json_extract_string(j, '$.path')`);
      case '//':
        throw new DialectError(`// at offset ${t.at}: integer division differs; use CAST(floor(a / b) AS BIGINT)`);
      case '**':
      case '^':
        throw new DialectError(`${t.text} at offset ${t.at}: use power(a, b)`);
      case '=>':
        throw new DialectError(`named arguments (=>) at offset ${t.at} are DuckDB-only`);
      case '~':
      case '@':
        throw new DialectError(`operator ${t.text} at offset ${t.at} is DuckDB-only`);
      case '==':
        return '=';
      default:
        return t.text;
    }
  }

  private word(nodes: Node[], i: number, clause: Clause): Emitted {
    const t = nodes[i] as Token;
    const word = t.text.toLowerCase();
    const j = nextIndex(nodes, i);
    const next = nodes[j];

    if (['qualify', 'ilike', 'glob', 'pivot', 'unpivot', 'asof', 'anti', 'semi', 'positional'].includes(word)) {
      throw new DialectError(`${t.text.toUpperCase()} at offset ${t.at} is DuckDB-only`);
    }
    if (word === 'all' && isWord(nodes[prevIndex(nodes, i)], 'by')) {
      throw new DialectError(`BY ALL at offset ${t.at}: name the columns (Trino's GROUP BY ALL means something else)`);
    }
    if ((word === 'exclude' || word === 'replace') && isOp(nodes[prevIndex(nodes, i)], '*')) {
      throw new DialectError(`* ${word.toUpperCase()} at offset ${t.at} is DuckDB-only: name the columns`);
    }
    // DuckDB materializes a CTE read more than once; NOT MATERIALIZED (a plan hint) lets it push
    // filters into kms_events instead. Trino inlines CTEs anyway and has no such syntax.
    if (word === 'not' && isWord(next, 'materialized') && isWord(nodes[prevIndex(nodes, i)], 'as')) {
      return { text: '', last: j };
    }
    if (word === 'timestamp' && isToken(next) && next.kind === 'string') {
      return { text: `${t.text} ${timestampLiteral(next)}`, last: j };
    }
    if (word === 'timestamptz' && isToken(next) && next.kind === 'string') {
      throw new DialectError(`TIMESTAMPTZ literal at offset ${t.at}: use TIMESTAMP '... UTC' values`);
    }
    if (word === 'interval') return this.interval(nodes, i);
    if (word === 'information_schema' && this.options.database && isOp(next, '.')) {
      const k = nextIndex(nodes, j);
      if (isWord(nodes[k], 'tables', 'columns')) return this.informationSchema(nodes, k);
    }
    if (word === 'filter' && isGroup(next) && isWord(next.items[nextIndex(next.items, -1)], 'where')) {
      return { text: `${t.text} (${this.items(next.items, 'filter', true)})`, last: j };
    }
    if (isGroup(next) && next.open === '(' && !KEYWORDS.has(word) && !isOp(nodes[prevIndex(nodes, i)], '.')) {
      return this.call(nodes, i, j, clause);
    }
    return { text: t.text, last: i };
  }

  /** name(args): rewritten when the table above says so, else passed through. */
  private call(nodes: Node[], i: number, j: number, clause: Clause): Emitted {
    const name = (nodes[i] as Token).text;
    const fn = name.toLowerCase();
    const g = nodes[j] as Group;
    const rawArgs = splitArgs(g.items);
    const arg = (k: number): string => this.items(trim(rawArgs[k] ?? []), clause, false).trim();
    const argc = rawArgs.length;
    const need = (...counts: number[]) => {
      if (!counts.includes(argc)) throw new DialectError(`${name}() at offset ${g.at} with ${argc} argument(s): only ${counts.join(' or ')} translate`);
    };
    const done = (text: string): Emitted => ({ text, last: j });

    if (fn in REFUSED && !(fn === 'unnest' && clause === 'from')) {
      throw new DialectError(`${name}() at offset ${g.at}: ${REFUSED[fn]}`);
    }
    switch (fn) {
      case 'cast':
      case 'try_cast':
        return done(this.cast(fn, g, clause));
      case 'to_json':
        need(1);
        return done(`json_format(CAST(${arg(0)} AS JSON))`);
      case 'regexp_matches':
        need(2);
        return done(`regexp_like(${arg(0)}, ${arg(1)})`);
      case 'regexp_extract': {
        need(2, 3);
        const group = argc === 3 ? trim(rawArgs[2]) : [];
        if (group.length > 0 && !(group.length === 1 && isToken(group[0]) && group[0].kind === 'number')) {
          throw new DialectError(`regexp_extract() at offset ${g.at}: only a group number translates`);
        }
        const s = arg(0);
        return done(`IF(${s} IS NULL, NULL, coalesce(regexp_extract(${s}, ${arg(1)}${argc === 3 ? `, ${arg(2)}` : ''}), ''))`);
      }
      case 'regexp_replace': {
        if (argc === 3) throw new DialectError(`regexp_replace() at offset ${g.at}: DuckDB replaces the first match only; only the 'g' (replace all) form matches Trino`);
        need(4);
        const opts = trim(rawArgs[3]);
        if (!(opts.length === 1 && isToken(opts[0]) && opts[0].text === "'g'")) {
          throw new DialectError(`regexp_replace() at offset ${g.at}: only the 'g' (replace all) form matches Trino`);
        }
        const repl = trim(rawArgs[2]);
        if (!(repl.length === 1 && isToken(repl[0]) && repl[0].kind === 'string')) {
          throw new DialectError(`regexp_replace() at offset ${g.at}: the replacement must be a literal`);
        }
        const replacement = repl[0].text.replace(/\\(\d)/g, '$$$1');
        return done(`regexp_replace(${arg(0)}, ${arg(1)}, ${replacement})`);
      }
      case 'json_extract_string': {
        need(2);
        const path = trim(rawArgs[1]);
        if (path.length === 1 && isToken(path[0]) && path[0].kind === 'string' && !path[0].text.startsWith("'$")) {
          throw new DialectError(`json_extract_string() at offset ${g.at}: use a '$.path' JSONPath`);
        }
        const j0 = arg(0);
        const p = path.length === 1 && isToken(path[0]) && path[0].kind === 'string' ? trinoJsonPath(path[0].text) : arg(1);
        return done(`coalesce(json_extract_scalar(${j0}, ${p}), nullif(json_format(json_extract(${j0}, ${p})), 'null'))`);
      }
      case 'string_agg':
      case 'group_concat':
      case 'listagg':
        return this.stringAgg(nodes, i, j, clause);
      case 'median':
        need(1);
        return this.median(nodes, j, clause, rawArgs[0]);
      case 'quantile_cont': {
        need(2);
        if (render(trim(rawArgs[1])).trim() !== '0.5') throw new DialectError(`quantile_cont() at offset ${g.at}: only 0.5 (the median) translates`);
        return this.median(nodes, j, clause, rawArgs[0]);
      }
      case 'date_diff':
      case 'datediff': {
        need(3);
        const unit = unitOf(rawArgs[0], name, g);
        return done(`date_diff('${unit}', date_trunc('${unit}', ${arg(1)}), date_trunc('${unit}', ${arg(2)}))`);
      }
      case 'date_trunc':
      case 'datetrunc':
        need(2);
        return done(`date_trunc('${unitOf(rawArgs[0], name, g)}', ${arg(1)})`);
      case 'date_part':
      case 'datepart': {
        need(2);
        const unit = unitOf(rawArgs[0], name, g);
        if (!DATE_PARTS.has(unit) || unit === 'week') throw new DialectError(`${name}('${unit}') at offset ${g.at} does not translate`);
        return done(`${unit}(${arg(1)})`);
      }
      case 'strftime': {
        need(2);
        return done(`date_format(${arg(0)}, ${dateFormat(rawArgs[1], g)})`);
      }
      case 'strptime': {
        need(2);
        return done(`date_parse(${arg(0)}, ${dateFormat(rawArgs[1], g)})`);
      }
      case 'md5':
      case 'sha256':
        need(1);
        return done(`lower(to_hex(${fn}(to_utf8(${arg(0)}))))`);
      case 'list_value':
      case 'list_pack':
        return done(`ARRAY[${rawArgs.map((_, k) => arg(k)).join(', ')}]`);
      case 'to_days':
      case 'to_hours':
      case 'to_minutes':
      case 'to_seconds':
        need(1);
        return done(`(${arg(0)}) * INTERVAL '1' ${fn.slice(3, -1).toUpperCase()}`);
      case 'now':
      case 'current_timestamp':
        need(0);
        return done(`CAST(current_timestamp AT TIME ZONE 'UTC' AS timestamp)`);
      case 'count_star':
        need(0);
        return done('count(*)');
      case 'max_by':
      case 'min_by':
      case 'arg_max':
      case 'arg_min': {
        // DuckDB skips rows whose value is NULL; Trino's max_by/min_by would return that NULL.
        need(2);
        const x = arg(0);
        const [filter, last] = this.aggregateFilter(nodes, j, name);
        return { text: `${RENAMED[fn]}(${x}, ${arg(1)}) FILTER (WHERE ${x} IS NOT NULL${filter ? ` AND (${filter})` : ''})`, last };
      }
      default: {
        const renamed = RENAMED[fn] ?? name;
        return done(`${renamed}(${this.items(g.items, clause, false)})`);
      }
    }
  }

  /** CAST(x AS type) / TRY_CAST. */
  private cast(fn: string, g: Group, clause: Clause): string {
    let at = -1;
    for (let k = 0; k < g.items.length; k++) if (isWord(g.items[k], 'as')) at = k;
    if (at < 0) throw new DialectError(`${fn.toUpperCase()} at offset ${g.at} without AS`);
    const expr = this.items(trim(g.items.slice(0, at)), clause, false).trim();
    const type = trinoType(trim(g.items.slice(at + 1)), g);
    if (type === 'VARCHAR') return `IF((${expr}) IS NULL, NULL, format('%s', ${expr}))`;
    if (type === 'JSON') return fn === 'try_cast' ? `try(json_parse(${expr}))` : `json_parse(${expr})`;
    // Text to a zoned time: DuckDB reads ISO 8601 (CloudTrail's eventTime), NULL when it is no real time.
    if (type === 'TIMESTAMP WITH TIME ZONE' && fn === 'try_cast') return `try(from_iso8601_timestamp(${expr}))`;
    return `${fn.toUpperCase()}(${expr} AS ${type})`;
  }

  /** An aggregate's FILTER (WHERE ...) right after it, if any: [condition, last index]. */
  private aggregateFilter(nodes: Node[], j: number, name: string): [string | null, number] {
    const k = nextIndex(nodes, j);
    if (isWord(nodes[k], 'over')) throw new DialectError(`${name}() as a window function does not translate: write a per-engine variant`);
    if (!isWord(nodes[k], 'filter')) return [null, j];
    const g = nodes[nextIndex(nodes, k)];
    if (!isGroup(g)) return [null, j];
    const w = nextIndex(g.items, -1);
    if (!isWord(g.items[w], 'where')) throw new DialectError(`FILTER at offset ${g.at} without WHERE`);
    return [this.items(trim(g.items.slice(w + 1)), 'filter', true).trim(), nextIndex(nodes, k)];
  }

  private median(nodes: Node[], j: number, clause: Clause, argNodes: Node[]): Emitted {
    const items = trim(argNodes);
    if (isWord(items[0], 'distinct')) throw new DialectError('median(DISTINCT ...) does not translate');
    const x = this.items(items, clause, false).trim();
    const [filter, last] = this.aggregateFilter(nodes, j, 'median');
    const a = `array_sort(array_agg(${x}) FILTER (WHERE ${x} IS NOT NULL${filter ? ` AND (${filter})` : ''}))`;
    return { text: `((element_at(${a}, (cardinality(${a}) + 1) / 2) + element_at(${a}, cardinality(${a}) / 2 + 1)) / 2e0)`, last };
  }

  private stringAgg(nodes: Node[], i: number, j: number, clause: Clause): Emitted {
    const name = (nodes[i] as Token).text;
    const g = nodes[j] as Group;
    let items = trim(g.items);
    const distinct = isWord(items[0], 'distinct');
    if (distinct) items = trim(items.slice(1));
    const orderAt = items.findIndex((n, k) => isWord(n, 'order') && isWord(items[nextIndex(items, k)], 'by'));
    const argNodes = splitArgs(orderAt < 0 ? items : items.slice(0, orderAt));
    if (argNodes.length < 1 || argNodes.length > 2) throw new DialectError(`${name}() at offset ${g.at}: expected (x[, separator])`);
    const x = this.items(trim(argNodes[0]), clause, false).trim();
    const sep = argNodes[1] ? this.items(trim(argNodes[1]), clause, false).trim() : "','";
    let order: { key: string; desc: boolean } | null = null;
    if (orderAt >= 0) {
      const keys = splitArgs(items.slice(nextIndex(items, orderAt) + 1));
      if (keys.length !== 1) throw new DialectError(`${name}() at offset ${g.at}: one ORDER BY key translates`);
      let key = trim(keys[0]);
      let desc = false;
      const lastWord = key[key.length - 1];
      if (isWord(lastWord, 'asc', 'desc')) {
        desc = lastWord.text.toLowerCase() === 'desc';
        key = trim(key.slice(0, -1));
      }
      if (key.some((n) => isWord(n, 'nulls'))) throw new DialectError(`${name}() at offset ${g.at}: NULLS FIRST/LAST does not translate`);
      order = { key: this.items(key, clause, false).trim(), desc };
    }
    const [filter, last] = this.aggregateFilter(nodes, j, name);
    const where = `FILTER (WHERE ${x} IS NOT NULL${filter ? ` AND (${filter})` : ''})`;
    let list: string;
    if (distinct) {
      if (order && squash(order.key) !== squash(x)) {
        throw new DialectError(`${name}(DISTINCT x ORDER BY another expression) at offset ${g.at} does not translate`);
      }
      list = `array_sort(array_agg(DISTINCT ${x}) ${where})`;
      if (order?.desc) list = `reverse(${list})`;
    } else {
      list = `array_agg(${x}${order ? ` ORDER BY ${order.key}${order.desc ? ' DESC' : ''}` : ''}) ${where}`;
    }
    return { text: `array_join(${list}, ${sep})`, last };
  }

  /** INTERVAL 30 DAY, INTERVAL '30 days', INTERVAL '30' DAY -> INTERVAL '30' DAY. */
  private interval(nodes: Node[], i: number): Emitted {
    const t = nodes[i] as Token;
    const j = nextIndex(nodes, i);
    const value = nodes[j];
    const k = nextIndex(nodes, j);
    const unitWord = nodes[k];
    const fail = (): never => {
      throw new DialectError(`INTERVAL at offset ${t.at}: write INTERVAL '30' DAY, or n * INTERVAL '1' DAY for an expression`);
    };
    const unit = (u: string): string => {
      const v = UNITS[u.toLowerCase()];
      if (!v || v === 'quarter' || v === 'millisecond') fail();
      return v.toUpperCase();
    };
    const amount = (n: string, u: string): string => {
      const normal = unit(u);
      return normal === 'WEEK' ? `INTERVAL '${Number(n) * 7}' DAY` : `INTERVAL '${n}' ${normal}`;
    };
    if (isToken(value) && value.kind === 'number' && isWord(unitWord)) return { text: amount(value.text, unitWord.text), last: k };
    if (isToken(value) && value.kind === 'string') {
      const body = value.text.slice(1, -1).trim();
      if (isWord(unitWord) && UNITS[unitWord.text.toLowerCase()] && /^-?\d+$/.test(body)) return { text: amount(body, unitWord.text), last: k };
      const m = /^(-?\d+)\s*([a-z]+)$/i.exec(body);
      if (m) return { text: amount(m[1], m[2]), last: j };
    }
    return fail();
  }

  private informationSchema(nodes: Node[], k: number): Emitted {
    const table = (nodes[k] as Token).text.toLowerCase();
    const after = nodes[nextIndex(nodes, k)];
    const aliased = isWord(after) && !['where', 'join', 'left', 'right', 'inner', 'cross', 'full', 'on', 'group', 'order', 'limit', 'union', 'natural'].includes(after.text.toLowerCase());
    const sub = `(SELECT * FROM information_schema.${table} WHERE table_schema = ${trinoLiteral(this.options.database!)})`;
    return { text: aliased ? sub : `${sub} AS ${table}`, last: k };
  }
}

// ---- helpers ------------------------------------------------------------------------------------

/**
 * A '$.a.b' path literal with Trino's subscripts: DuckDB reads `$.aws:rds:db-id` as one key, Trino's
 * JSON path takes only letters, digits and _ unquoted, so such keys become ["aws:rds:db-id"].
 */
function trinoJsonPath(literal: string): string {
  const m = /^'\$((?:\.[^.'"[\]]+)+)'$/.exec(literal);
  if (!m) return literal;
  const segments = m[1].slice(1).split('.');
  return `'$${segments.map((k) => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? `.${k}` : `["${k}"]`)).join('')}'`;
}

const squash = (s: string) => s.replace(/\s+/g, '').toLowerCase();

function unitOf(nodes: Node[], fn: string, g: Group): string {
  const t = trim(nodes);
  if (t.length === 1 && isToken(t[0]) && t[0].kind === 'string') {
    const unit = UNITS[t[0].text.slice(1, -1).toLowerCase()];
    if (unit) return unit;
  }
  throw new DialectError(`${fn}() at offset ${g.at}: the unit must be a literal such as 'day'`);
}

function dateFormat(nodes: Node[], g: Group): string {
  const t = trim(nodes);
  if (!(t.length === 1 && isToken(t[0]) && t[0].kind === 'string')) {
    throw new DialectError(`strftime/strptime at offset ${g.at}: the format must be one literal`);
  }
  const body = t[0].text.slice(1, -1);
  return `'${body.replace(/%(.)/g, (_, c: string) => {
    const v = STRFTIME[c];
    if (!v) throw new DialectError(`strftime format %${c} at offset ${g.at} does not translate`);
    return v;
  })}'`;
}

function timestampLiteral(t: Token): string {
  const body = t.text.slice(1, -1).trim();
  const m = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?))?(Z|\+00(?::?00)?)?$/.exec(body);
  if (!m) throw new DialectError(`TIMESTAMP '${body}' at offset ${t.at}: write 'YYYY-MM-DD HH:MM:SS' (UTC)`);
  return `'${m[1]}${m[2] ? ` ${m[2].length === 5 ? `${m[2]}:00` : m[2]}` : ' 00:00:00'}'`;
}

/** A DuckDB type name (the nodes after AS) as Trino's. */
function trinoType(nodes: Node[], g: Group): string {
  const text = render(nodes).replace(/\s+/g, ' ').trim().toLowerCase();
  const list = /^(.*?)\s*\[\s*\]$/.exec(text);
  if (list) return `ARRAY(${trinoType(parseSql(list[1]), g)})`;
  const decimal = /^(?:decimal|numeric)\s*(\(\s*\d+\s*(?:,\s*\d+\s*)?\))?$/.exec(text);
  if (decimal) return decimal[1] ? `DECIMAL${decimal[1].replace(/\s+/g, '')}` : 'DECIMAL(18,3)';
  const varchar = /^(?:varchar|text|string|char|bpchar|nvarchar)(?:\s*\(\s*\d+\s*\))?$/.exec(text);
  if (varchar) return 'VARCHAR';
  const simple: Record<string, string> = {
    integer: 'INTEGER', int: 'INTEGER', int4: 'INTEGER', signed: 'INTEGER', bigint: 'BIGINT', int8: 'BIGINT', long: 'BIGINT',
    smallint: 'SMALLINT', int2: 'SMALLINT', short: 'SMALLINT', tinyint: 'TINYINT', int1: 'TINYINT', hugeint: 'DECIMAL(38,0)',
    double: 'DOUBLE', float8: 'DOUBLE', 'double precision': 'DOUBLE', float: 'REAL', float4: 'REAL', real: 'REAL',
    boolean: 'BOOLEAN', bool: 'BOOLEAN', logical: 'BOOLEAN', date: 'DATE', timestamp: 'TIMESTAMP', datetime: 'TIMESTAMP',
    'timestamp with time zone': 'TIMESTAMP WITH TIME ZONE', timestamptz: 'TIMESTAMP WITH TIME ZONE', time: 'TIME',
    json: 'JSON', blob: 'VARBINARY', bytea: 'VARBINARY', uuid: 'UUID',
  };
  const t = simple[text];
  if (!t) throw new DialectError(`CAST to ${text.toUpperCase()} at offset ${g.at} does not translate`);
  return t;
}

// ---- x::type -> CAST(x AS type) -----------------------------------------------------------------

/** Rewrites DuckDB's postfix casts into CAST calls, at every bracket level. */
function castOperators(nodes: Node[]): Node[] {
  const items = nodes.map((n) => (isGroup(n) ? { ...n, items: castOperators(n.items) } : n));
  for (let k = 0; k < items.length; k++) {
    if (!isOp(items[k], '::')) continue;
    const start = operandStart(items, k);
    const typeEnd = typeEndIndex(items, k);
    if (start < 0 || typeEnd < 0) throw new DialectError(`a :: cast at offset ${(items[k] as Token).at} that could not be read: write CAST(x AS type)`);
    const at = (items[k] as Token).at;
    const inner: Node[] = [
      ...items.slice(start, k),
      { kind: 'ws', text: ' ', at },
      { kind: 'word', text: 'AS', at },
      { kind: 'ws', text: ' ', at },
      ...trim(items.slice(k + 1, typeEnd + 1)),
    ];
    const cast: Node[] = [{ kind: 'word', text: 'CAST', at }, { kind: 'group', open: '(', close: ')', items: inner, at }];
    items.splice(start, typeEnd + 1 - start, ...cast);
    k = start;
  }
  return items;
}

/** Where the operand of the :: at `k` starts: a call, a bracket, a literal or a dotted name. */
function operandStart(items: Node[], k: number): number {
  let p = prevIndex(items, k);
  const n = items[p];
  if (p < 0) return -1;
  if (isGroup(n)) {
    const q = prevIndex(items, p);
    if (isWord(items[q]) && !KEYWORDS.has((items[q] as Token).text.toLowerCase())) return q;
    return p;
  }
  if (!isToken(n) || !['word', 'qident', 'number', 'string', 'param'].includes(n.kind)) return -1;
  if (n.kind === 'string') {
    const q = prevIndex(items, p);
    if (isWord(items[q], 'timestamp', 'date', 'time')) return q;
    return p;
  }
  // a.b.c
  for (;;) {
    const dot = prevIndex(items, p);
    if (!isOp(items[dot], '.')) return p;
    const q = prevIndex(items, dot);
    if (!isToken(items[q]) || !['word', 'qident'].includes((items[q] as Token).kind)) return p;
    p = q;
  }
}

/** The last node of the type name after the :: at `k`. */
function typeEndIndex(items: Node[], k: number): number {
  let e = nextIndex(items, k);
  if (!isWord(items[e])) return -1;
  const first = (items[e] as Token).text.toLowerCase();
  if (first === 'double' && isWord(items[nextIndex(items, e)], 'precision')) e = nextIndex(items, e);
  if (first === 'timestamp' && isWord(items[nextIndex(items, e)], 'with')) {
    for (const w of ['with', 'time', 'zone']) {
      const x = nextIndex(items, e);
      if (!isWord(items[x], w)) return -1;
      e = x;
    }
  }
  let x = nextIndex(items, e);
  if (isGroup(items[x]) && (items[x] as Group).open === '(') {
    e = x;
    x = nextIndex(items, e);
  }
  while (isGroup(items[x]) && (items[x] as Group).open === '[' && (items[x] as Group).items.every(isBlank)) {
    e = x;
    x = nextIndex(items, e);
  }
  return e;
}
