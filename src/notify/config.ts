// The notification fields of the --config file detect shares with the trust settings:
// {"notify": ["https://...", "sns:arn:aws:sns:..."], "notifySecret": "...", "notifyMinSeverity": "medium",
//  "notifyRetrySeconds": 0.5}.

import { readFileSync } from 'node:fs';

export const NOTIFY_CONFIG_FIELDS = ['notify', 'notifySecret', 'notifyMinSeverity', 'notifyRetrySeconds'] as const;

export interface NotifyConfig {
  notify?: string[];
  notifySecret?: string;
  notifyMinSeverity?: string;
  /** The first wait before a webhook is asked again, doubled each time. */
  notifyRetrySeconds?: number;
}

/** A bad notification field in the config file: exit code 2. */
export class NotifyConfigError extends Error {}

export function loadNotifyConfig(path: string): NotifyConfig {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new NotifyConfigError(`--config ${path}: ${(err as Error).message}`);
  }
  const { notify, notifySecret, notifyMinSeverity, notifyRetrySeconds } = doc ?? {};
  if (notify !== undefined && !(Array.isArray(notify) && notify.every((t) => typeof t === 'string'))) {
    throw new NotifyConfigError(`--config ${path}: notify must be an array of targets (https://... or sns:arn:aws:sns:...)`);
  }
  if (notifySecret !== undefined && (typeof notifySecret !== 'string' || notifySecret === '')) {
    throw new NotifyConfigError(`--config ${path}: notifySecret must be a non-empty string`);
  }
  if (notifyMinSeverity !== undefined && typeof notifyMinSeverity !== 'string') {
    throw new NotifyConfigError(`--config ${path}: notifyMinSeverity must be low, medium or high`);
  }
  if (notifyRetrySeconds !== undefined && !(typeof notifyRetrySeconds === 'number' && notifyRetrySeconds >= 0 && notifyRetrySeconds <= 3600)) {
    throw new NotifyConfigError(`--config ${path}: notifyRetrySeconds must be a number of seconds from 0 to 3600`);
  }
  return {
    notify: notify as string[] | undefined, notifySecret: notifySecret as string | undefined, notifyMinSeverity: notifyMinSeverity as string | undefined,
    notifyRetrySeconds: notifyRetrySeconds as number | undefined,
  };
}
