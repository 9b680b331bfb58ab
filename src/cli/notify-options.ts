// --notify and its companions for keytrail detect, and running the deliveries after the findings:
//
//   const { values } = parse(argv, HELP, { ...NOTIFY_OPTIONS, ... });
//   const notifying = notifySettings(values, configPath, db, waitMs);   // null without targets
//   ... findings ...
//   const code = notifying ? await deliverFindings(findings, notifying) : EXIT.ok;

import type { Finding } from '../detect/run.js';
import { SEVERITIES, type Severity } from '../detect/rules.js';
import { NotifyConfigError, loadNotifyConfig } from '../notify/config.js';
import { notify, type NotifyOptions } from '../notify/notify.js';
import { TargetError, parseTarget } from '../notify/target.js';
import { EXIT, UsageError, oneOf } from './args.js';

export const NOTIFY_OPTIONS = {
  notify: { type: 'string', multiple: true },
  'notify-secret': { type: 'string' },
  'notify-min-severity': { type: 'string' },
} as const;

export const NOTIFY_HELP = `  --notify TARGET           send each new finding once to TARGET: an https:// webhook (JSON
                            {"text", "finding"} POST) or sns:arn:aws:sns:REGION:ACCOUNT:TOPIC;
                            repeat for several. Deliveries are recorded in the database
                            (table notifications); failed ones are retried by the next run
  --notify-secret S         sign webhook bodies: X-Keytrail-Signature: sha256=<HMAC-SHA256 hex>
                            (default: KEYTRAIL_NOTIFY_SECRET)
  --notify-min-severity S   low, medium (default) or high: the least severe finding sent`;

export interface NotifyValues {
  notify?: string[];
  'notify-secret'?: string;
  'notify-min-severity'?: string;
}

/** The command line wins over the config file's notify, notifySecret and notifyMinSeverity; notifyRetrySeconds is the file's only. */
export function notifySettings(values: NotifyValues, configPath: string | undefined, db: string, waitMs: number): NotifyOptions | null {
  let config;
  try {
    config = configPath === undefined ? {} : loadNotifyConfig(configPath);
  } catch (err) {
    if (err instanceof NotifyConfigError) throw new UsageError(err.message);
    throw err;
  }
  const specs = values.notify ?? config.notify ?? [];
  const secret = values['notify-secret'] ?? process.env.KEYTRAIL_NOTIFY_SECRET ?? config.notifySecret ?? null;
  const minSeverity = oneOf<Severity>(values['notify-min-severity'] ?? config.notifyMinSeverity, '--notify-min-severity', SEVERITIES, 'medium');
  if (specs.length === 0) {
    if (values['notify-secret'] !== undefined || values['notify-min-severity'] !== undefined) {
      throw new UsageError('--notify-secret and --notify-min-severity go with --notify');
    }
    return null;
  }
  try {
    const webhook = config.notifyRetrySeconds === undefined ? undefined : { backoffMs: config.notifyRetrySeconds * 1000 };
    return { targets: specs.map(parseTarget), secret: secret || null, minSeverity, db, waitMs, webhook };
  } catch (err) {
    if (err instanceof TargetError) throw new UsageError(err.message);
    throw err;
  }
}

/** Delivers; EXIT.failed with each reason on stderr when a delivery finally failed, else EXIT.ok. */
export async function deliverFindings(findings: Finding[], options: NotifyOptions): Promise<number> {
  let result;
  try {
    result = await notify(findings, options);
  } catch (err) {
    console.error(`keytrail detect: notifications: ${(err as Error).message}`);
    return EXIT.failed;
  }
  if (process.stderr.isTTY || result.failed.length > 0) {
    console.error(
      `keytrail detect: notifications: ${result.sent} sent${result.retried ? ` (${result.retried} owed by an earlier run)` : ''}, ` +
        `${result.skipped} already sent, ${result.failed.length} failed`,
    );
  }
  for (const f of result.failed) console.error(`keytrail detect: could not notify ${f.target} of ${f.rule}: ${f.error}`);
  return result.failed.length > 0 ? EXIT.failed : EXIT.ok;
}
