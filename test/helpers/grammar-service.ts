// Athena's grammars (dt-sql-parser: Hive for the tables' DDL, Trino for queries and views) in one
// process for a whole test run: POST /hive or /trino with the SQL as the body answers the parse
// errors as JSON ([] when the text parses). Run with `node --import tsx` (the package's modules
// import each other without extensions); prints its port, and exits when its stdin closes.
//
// Why one process: ANTLR fills a parser's prediction cache (DFA) as it meets new constructs, and
// that, not the parsing, is most of the cost: the first pass over keytrail's detections and report
// sections takes the Trino grammar ~7 CPU-s, the second 0.5. Each test file is a process of its own
// and paid the first pass again; here it is paid once per run. Answers are a pure function of the
// text: kept per text until the process exits. Started with a larger young generation: ANTLR makes many
// short-lived objects, and 64 MB semi-spaces took its warm-up from 6.7 to 6.1 CPU-s.

import { createServer } from 'node:http';

type Errors = unknown[];
interface Grammar { validate(sql: string): Errors }

const grammars = new Map<string, Promise<Grammar>>();
const answers = new Map<string, Errors>();

/** The grammar's parser, loaded on first use (a run that validates no Hive DDL never loads Hive). */
function grammar(name: string): Promise<Grammar> | null {
  if (name !== 'trino' && name !== 'hive') return null;
  let g = grammars.get(name);
  if (!g) {
    g = name === 'trino'
      ? import('dt-sql-parser/dist/parser/trino/index.js').then((m) => new m.TrinoSQL())
      : import('dt-sql-parser/dist/parser/hive/index.js').then((m) => new m.HiveSQL());
    grammars.set(name, g);
  }
  return g;
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const name = (req.url ?? '').slice(1);
    const g = req.method === 'POST' ? grammar(name) : null;
    if (!g) {
      res.writeHead(404).end();
      return;
    }
    const sql = Buffer.concat(chunks).toString('utf8');
    g.then((parser) => {
      const key = `${name}\n${sql}`;
      let errors = answers.get(key);
      if (!errors) answers.set(key, (errors = parser.validate(sql)));
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(errors));
    }).catch((err: Error) => res.writeHead(500).end(String(err.stack ?? err)));
  });
});

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${typeof address === 'object' && address ? address.port : 0}\n`);
});
process.stdin.resume();
process.stdin.on('end', () => process.exit(0)); // whoever started it is gone
