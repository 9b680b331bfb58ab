// keytrail query SQL: ad-hoc SQL on a read-only connection.

import { Store, plainRows } from '../store/db.js';
import { DEFAULT_DB, EXIT, UsageError, oneOf, parse } from './args.js';
import { FORMATS, formatRows } from './format.js';

const HELP = `usage: keytrail query SQL [--db FILE] [--format table|csv|json|ndjson]

Runs SQL on the database, read-only. Tables: kms_events, ingested_objects, ingest_runs,
kms_event_catalogue; views: kms_usage_by_identity, kms_usage_by_key.
Example: keytrail query "SELECT event_name, count(*) FROM kms_events GROUP BY ALL ORDER BY 2 DESC"`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    db: { type: 'string', default: DEFAULT_DB },
    format: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (values.help) {
    console.log(HELP);
    return EXIT.ok;
  }
  if (positionals.length !== 1) throw new UsageError('expected one SQL statement (quote it)');
  const format = oneOf(values.format, '--format', FORMATS, 'table');
  const store = await Store.open(values.db!, { readOnly: true });
  try {
    let reader;
    try {
      reader = await store.connection.runAndReadAll(positionals[0]);
    } catch (err) {
      throw new UsageError(`the query failed: ${(err as Error).message}`);
    }
    const columns = reader.columnNames();
    console.log(formatRows(plainRows(reader), columns, format));
    return EXIT.ok;
  } finally {
    store.close();
  }
}
