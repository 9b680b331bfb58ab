// One POST per finding to a webhook, signed when there is a secret, retried with backoff on 5xx,
// 429 and connection errors (a 4xx other than 429 will not get better by asking again).

import { createHmac } from 'node:crypto';

export interface WebhookOptions {
  secret: string | null;
  attempts?: number;
  /** First wait between attempts; doubled each time. */
  backoffMs?: number;
  timeoutMs?: number;
}

export const SIGNATURE_HEADER = 'X-Keytrail-Signature';

/** 'sha256=<hex HMAC-SHA256 of the raw body>': the receiver recomputes it to trust the body. */
export function signature(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

/** Sends `body`; resolves with the attempts it took, or throws with the last reason. */
export async function postWebhook(url: string, body: string, options: WebhookOptions): Promise<number> {
  const attempts = options.attempts ?? 4;
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'keytrail' };
  if (options.secret) headers[SIGNATURE_HEADER] = signature(body, options.secret);
  let reason = '';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (attempt > 1) await sleep((options.backoffMs ?? 500) * 2 ** (attempt - 2));
    let retry: boolean;
    try {
      // A redirect would turn the POST into a GET elsewhere: it is a failure to fix, not follow.
      const response = await fetch(url, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(options.timeoutMs ?? 10_000) });
      await response.body?.cancel();
      if (response.ok) return attempt;
      reason = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
      retry = response.status >= 500 || response.status === 429;
    } catch (err) {
      reason = connectionError(err);
      retry = true;
    }
    if (!retry) throw new WebhookError(reason, attempt);
  }
  throw new WebhookError(reason, attempts);
}

export class WebhookError extends Error {
  constructor(reason: string, readonly attempts: number) {
    super(`${reason} (after ${attempts} attempt${attempts === 1 ? '' : 's'})`);
  }
}

/** fetch's "fetch failed" says nothing: the cause (ECONNREFUSED, a timeout) does. */
function connectionError(err: unknown): string {
  const e = err as Error & { cause?: Error & { code?: string } };
  if (e.name === 'TimeoutError') return 'timed out';
  return e.cause ? `${e.cause.code ?? e.cause.message}` : e.message;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
