// keytrail's commands: picks one, maps its errors to exit codes. Commands live one per file, loaded
// when named. The process around it (umask, exit code) is main.ts's.

import { DatabaseError } from '../store/db.js';
import { SourceError } from '../source/source.js';
import { EXIT, HelpShown, UsageError } from './args.js';

type Command = (argv: string[]) => Promise<number>;

const commands: Record<string, { summary: string; load: () => Promise<Command> }> = {
  ingest: { summary: 'load CloudTrail KMS events from s3://bucket[/prefix], a folder or event-history:// into DuckDB', load: async () => (await import('./ingest.js')).run },
  query: { summary: 'run SQL on the database (read-only)', load: async () => (await import('./query.js')).run },
  detect: { summary: 'run the detections and print findings (--fail-on for cron and CI)', load: async () => (await import('./detect.js')).run },
  keys: { summary: "each KMS key's state; keys audit: check the live keys; keys show KEY: its story", load: async () => (await import('./keys.js')).run },
  report: { summary: 'usage per principal and per key, over time, with findings: md, csv, json or html', load: async () => (await import('./report.js')).run },
  export: { summary: 'write kms_events as Parquet, one partition per day, to a folder or s3:// (incremental)', load: async () => (await import('./export.js')).run },
  status: { summary: 'last ingest runs, unreadable objects, how far behind the data is (exit 1 for monitoring)', load: async () => (await import('./status.js')).run },
  verify: { summary: 'check digest chains, signatures and log hashes (as aws cloudtrail validate-logs)', load: async () => (await import('./verify.js')).run },
  athena: { summary: 'print the Athena DDL (tables with partition projection) for the export or the trail', load: async () => (await import('./athena.js')).run },
};

const USAGE = `usage: keytrail <command> [options]

${Object.entries(commands).map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}`).join('\n')}

Run keytrail <command> --help for a command's options.`;

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(USAGE);
    return name ? EXIT.ok : EXIT.usage;
  }
  const command = commands[name];
  if (!command) {
    console.error(`keytrail: unknown command '${name}'\n\n${USAGE}`);
    return EXIT.usage;
  }
  try {
    return await (await command.load())(rest);
  } catch (err) {
    if (err instanceof HelpShown) return EXIT.ok;
    if (err instanceof UsageError) {
      console.error(`keytrail ${name}: ${err.message}\nRun keytrail ${name} --help for usage.`);
      return EXIT.usage;
    }
    if (err instanceof SourceError || err instanceof DatabaseError) {
      console.error(`keytrail ${name}: ${err.message}`);
      return EXIT.usage;
    }
    console.error(`keytrail ${name}: ${(err as Error)?.stack ?? err}`);
    return EXIT.failed;
  }
}
