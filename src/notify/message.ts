// What a notification says about a finding: a stable fingerprint, a one-line summary, the JSON body.

import { createHash } from 'node:crypto';
import type { Finding } from '../detect/run.js';

/**
 * The same finding on every run: rule, who, from where, which key, which account and when it
 * began. Fields that grow while it goes on (last_seen, event_count, detail) are left out, so a
 * finding that continues is not sent again; one that begins anew (a new first_seen) is.
 */
export function fingerprint(f: Finding): string {
  const parts = [f.rule, f.identity_arn, f.source_ip, f.key_arn, f.account_id, f.first_seen];
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

/** One line for chat (Slack's mrkdwn: &, < and > escaped). */
export function summary(f: Finding): string {
  const who = f.identity_arn ?? 'unknown caller';
  const parts = [
    `[${f.severity.toUpperCase()}] ${f.title} (${f.rule})`,
    `by ${who}${f.source_ip ? ` from ${f.source_ip}` : ''}`,
    ...(f.key_arn ? [`key ${f.key_arn}`] : []),
    ...(f.account_id ? [`account ${f.account_id}`] : []),
    `${f.event_count} event${f.event_count === 1 ? '' : 's'} ${f.first_seen ?? '?'}..${f.last_seen ?? '?'}`,
    ...(f.detail ? [f.detail] : []),
  ];
  return slackEscape(parts.join(' · ').replace(/\s+/g, ' '));
}

export function body(f: Finding): string {
  return JSON.stringify({ text: summary(f), finding: f });
}

const slackEscape = (s: string): string => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
