// Where findings go: an http(s):// webhook or an SNS topic (sns:arn:aws:sns:REGION:ACCOUNT:TOPIC).

import { createHash } from 'node:crypto';

export type Target =
  | { kind: 'webhook'; url: string; id: string; label: string }
  | { kind: 'sns'; topicArn: string; region: string; id: string; label: string };

/** A --notify value that is neither a webhook URL nor an SNS topic: exit code 2. */
export class TargetError extends Error {}

const TOPIC_RE = /^arn:aws[a-z-]*:sns:([a-z0-9-]+):(\d{12}):[A-Za-z0-9_-]{1,256}(\.fifo)?$/;

export function parseTarget(spec: string): Target {
  const value = spec.trim();
  // The id keys the delivery records; the label is what keytrail prints and stores, without the
  // URL's path and query, which for Slack-style webhooks are the secret.
  const id = createHash('sha256').update(value).digest('hex');
  if (value.startsWith('sns:')) {
    const arn = value.slice(4);
    const m = TOPIC_RE.exec(arn);
    if (!m) throw new TargetError(`--notify '${spec}': not an SNS topic ARN (sns:arn:aws:sns:REGION:ACCOUNT:TOPIC)`);
    if (m[3]) throw new TargetError(`--notify '${spec}': FIFO topics need a message group; use a standard topic`);
    return { kind: 'sns', topicArn: arn, region: m[1], id, label: arn };
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TargetError(`--notify '${spec}': not a URL (https://...) or an SNS topic (sns:arn:aws:sns:...)`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TargetError(`--notify '${spec}': a webhook is http:// or https://`);
  return { kind: 'webhook', url: url.href, id, label: `${url.origin}/…` };
}
