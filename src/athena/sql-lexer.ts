// A small SQL lexer shared by the DuckDB -> Trino translation (dialect.ts): tokens, then tokens
// nested by brackets, so that a function's arguments can be found and rewritten. It knows string
// literals, quoted names, comments, numbers, $name parameters and operators; nothing about grammar.

export type TokenKind = 'ws' | 'comment' | 'string' | 'qident' | 'number' | 'word' | 'param' | 'qmark' | 'op';

export interface Token {
  kind: TokenKind;
  text: string;
  /** Offset in the input, for error messages. */
  at: number;
}

/** A bracketed group: '(' ... ')' or '[' ... ']', with what is inside. */
export interface Group {
  kind: 'group';
  open: '(' | '[';
  close: ')' | ']';
  items: Node[];
  at: number;
}

export type Node = Token | Group;

export class SqlSyntaxError extends Error {}

const OPERATORS = ['->>', '||', '<=', '>=', '<>', '!=', '::', '->', '=>', '//', '**'];

export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const push = (kind: TokenKind, end: number) => {
    tokens.push({ kind, text: sql.slice(i, end), at: i });
    i = end;
  };
  while (i < sql.length) {
    const c = sql[i];
    const rest = sql.slice(i, i + 3);
    if (/\s/.test(c)) {
      let j = i + 1;
      while (j < sql.length && /\s/.test(sql[j])) j++;
      push('ws', j);
    } else if (rest.startsWith('--')) {
      const j = sql.indexOf('\n', i);
      push('comment', j < 0 ? sql.length : j);
    } else if (rest.startsWith('/*')) {
      const j = sql.indexOf('*/', i + 2);
      if (j < 0) throw new SqlSyntaxError(`unterminated comment at offset ${i}`);
      push('comment', j + 2);
    } else if (c === "'" || c === '"') {
      let j = i + 1;
      for (;;) {
        if (j >= sql.length) throw new SqlSyntaxError(`unterminated ${c === "'" ? 'string' : 'quoted name'} at offset ${i}`);
        if (sql[j] === c) {
          if (sql[j + 1] === c) j += 2;
          else break;
        } else j++;
      }
      push(c === "'" ? 'string' : 'qident', j + 1);
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(sql[i + 1] ?? ''))) {
      const m = /^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?/.exec(sql.slice(i))!;
      push('number', i + m[0].length);
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(sql.slice(i))!;
      push('word', i + m[0].length);
    } else if (c === '$' && /[A-Za-z_]/.test(sql[i + 1] ?? '')) {
      const m = /^\$[A-Za-z_][A-Za-z0-9_]*/.exec(sql.slice(i))!;
      push('param', i + m[0].length);
    } else if (c === '?') {
      push('qmark', i + 1);
    } else {
      const op = OPERATORS.find((o) => sql.startsWith(o, i));
      push('op', i + (op ? op.length : 1));
    }
  }
  return tokens;
}

/** Nests tokens by ( ) and [ ]; throws on unbalanced brackets. */
export function nest(tokens: Token[]): Node[] {
  const root: Node[] = [];
  const stack: Array<{ group: Group; parent: Node[] }> = [];
  let items = root;
  for (const t of tokens) {
    if (t.kind === 'op' && (t.text === '(' || t.text === '[')) {
      const group: Group = { kind: 'group', open: t.text, close: t.text === '(' ? ')' : ']', items: [], at: t.at };
      items.push(group);
      stack.push({ group, parent: items });
      items = group.items;
    } else if (t.kind === 'op' && (t.text === ')' || t.text === ']')) {
      const top = stack.pop();
      if (!top || top.group.close !== t.text) throw new SqlSyntaxError(`unbalanced '${t.text}' at offset ${t.at}`);
      items = top.parent;
    } else {
      items.push(t);
    }
  }
  if (stack.length > 0) throw new SqlSyntaxError(`'${stack[stack.length - 1].group.open}' at offset ${stack[stack.length - 1].group.at} is never closed`);
  return root;
}

export const parseSql = (sql: string): Node[] => nest(tokenize(sql));

export const isGroup = (n: Node | undefined): n is Group => n !== undefined && n.kind === 'group';
export const isToken = (n: Node | undefined): n is Token => n !== undefined && n.kind !== 'group';

/** A word token, compared case-insensitively. */
export function isWord(n: Node | undefined, ...words: string[]): n is Token {
  return isToken(n) && n.kind === 'word' && (words.length === 0 || words.includes(n.text.toLowerCase()));
}

export const isOp = (n: Node | undefined, op: string): n is Token => isToken(n) && n.kind === 'op' && n.text === op;

/** Whitespace and comments: what sits between meaningful nodes. */
export const isBlank = (n: Node | undefined): boolean => isToken(n) && (n.kind === 'ws' || n.kind === 'comment');

/** Index of the next node after `i` that is not blank, or -1. */
export function nextIndex(items: Node[], i: number): number {
  for (let j = i + 1; j < items.length; j++) if (!isBlank(items[j])) return j;
  return -1;
}

/** Index of the last node before `i` that is not blank, or -1. */
export function prevIndex(items: Node[], i: number): number {
  for (let j = i - 1; j >= 0; j--) if (!isBlank(items[j])) return j;
  return -1;
}

/** Splits a group's items on top-level commas. */
export function splitArgs(items: Node[]): Node[][] {
  const args: Node[][] = [[]];
  for (const n of items) {
    if (isOp(n, ',')) args.push([]);
    else args[args.length - 1].push(n);
  }
  return args.length === 1 && args[0].every(isBlank) ? [] : args;
}

/** The SQL text of nodes, as written. */
export function render(nodes: Node[]): string {
  return nodes.map((n) => (isGroup(n) ? `${n.open}${render(n.items)}${n.close}` : n.text)).join('');
}

/** Nodes without leading and trailing blanks. */
export function trim(nodes: Node[]): Node[] {
  let a = 0;
  let b = nodes.length;
  while (a < b && isBlank(nodes[a])) a++;
  while (b > a && isBlank(nodes[b - 1])) b--;
  return nodes.slice(a, b);
}
