// CloudTrail's Event history as a log source: the last 90 days of an account's management events,
// KMS's included, through LookupEvents, with no trail and no bucket.
//
//   streams  event-history://<account>/<region>, one per region (each has its own rate limit)
//   objects  event-history://<account>/<region>/<YYYY-MM-DD>, one per UTC day, oldest first
//   read     LookupEvents for the day, once per event source kept (kms, cloudtrail), every page;
//            each event's CloudTrailEvent, verbatim, is a record of a {"Records":[...]} object
//
// The etag says how complete the day was when listed: 'complete' once the day ended more than a
// safe margin ago (events reach Event history within about 15 minutes), else the time it was listed
// at. So a later run lists an open day with another etag and reads it again, and the ingest's
// exactness (same eventID and content = one row) drops what the two reads share.

import { CloudTrailClient, LookupEventsCommand, type LookupEventsCommandInput, type LookupEventsCommandOutput } from '@aws-sdk/client-cloudtrail';
import { describeS3Error as describeAwsError } from '../aws/s3-client.js';
import { NoRegionError, resolveTargets } from '../inventory/targets.js';
import { EVENT_HISTORY, HISTORY_DAYS, listDays, specRegions } from './event-history-days.js';
import { ReadError, SourceError, type LogSource } from './source.js';


/** LookupEvents' quota: 2 requests per second per account and region. */
const LOOKUP_RATE = 2;
const PAGE_SIZE = 50;
/** Attempts of one request when throttled or when the service or connection fails. */
const MAX_ATTEMPTS = 8;
const EVENT_SOURCES = ['kms.amazonaws.com', 'cloudtrail.amazonaws.com'] as const;

export interface EventHistoryOptions {
  /** --regions, or null: the regions in the spec, else the account's enabled regions. */
  regions: string[] | null;
  /** One endpoint for CloudTrail, STS and Account (a local or compatible stack). */
  endpointUrl?: string;
  /** LookupEvents requests a second per region (default LOOKUP_RATE, AWS's quota). */
  lookupRate?: number;
}

export interface EventHistorySource extends LogSource {
  readonly regions: string[];
  /** Regions left out (denied), for the user. */
  readonly notes: string[];
}

const OBJECT_RE = /^event-history:\/\/([^/]+)\/([^/]+)\/(\d{4}-\d{2}-\d{2})$/;

export async function openEventHistorySource(spec: string, options: EventHistoryOptions): Promise<EventHistorySource> {
  const named = specRegions(spec);
  if (named.length > 0 && options.regions) throw new SourceError(`${spec}: give the regions in SOURCE or with --regions, not both`);
  const explicit = options.regions ?? (named.length > 0 ? named : null);
  const connect = { endpointUrl: options.endpointUrl };
  let target;
  try {
    const { targets } = await resolveTargets({ ...connect, roleArns: [], regions: explicit });
    target = targets[0];
  } catch (err) {
    if (err instanceof NoRegionError) throw new SourceError(`${spec}: no region given and none configured: name them (event-history://us-east-1,eu-west-1 or --regions) or set AWS_REGION`);
    throw new SourceError(`${spec}: cannot tell whose credentials these are (sts:GetCallerIdentity): ${describeAwsError(err)}`);
  }
  const readers = new Map(target.regions.map((region) => [region, new RegionReader(region, options.lookupRate ?? LOOKUP_RATE, options.endpointUrl)]));
  const probes = await Promise.all([...readers.values()].map((r) => r.probe()));
  const denied = probes.filter((p) => p.error !== null);
  if (denied.length === probes.length || (explicit && denied.length > 0)) {
    for (const r of readers.values()) r.close();
    throw new SourceError(denied.map((p) => `${EVENT_HISTORY}${p.region}: ${p.error}`).join('; '));
  }
  const notes = denied.map((p) => `${EVENT_HISTORY}${p.region} left out: ${p.error}`);
  for (const p of denied) {
    readers.get(p.region)!.close();
    readers.delete(p.region);
  }
  // Without STS (a CloudTrail-only endpoint) the events say whose they are.
  const account = target.account ?? probes.find((p) => p.account)?.account ?? 'unknown-account';
  const root = `${EVENT_HISTORY}${account}`;
  return {
    name: root,
    regions: [...readers.keys()],
    notes,
    streams: async function* () {
      for (const region of readers.keys()) yield `${root}/${region}`;
    },
    list: (stream, range) => listDays(stream, range, new Date()),
    read: async (ref) => {
      const m = OBJECT_RE.exec(ref.uri);
      const reader = m && readers.get(m[2]);
      if (!m || !reader) throw new ReadError(`${ref.uri}: not an object of ${root}`, true);
      return reader.readDay(ref.uri, m[3]);
    },
    close: () => {
      for (const r of readers.values()) r.close();
    },
  };
}

/**
 * One region's LookupEvents: every request, retries included, waits its turn on the region's
 * rate; one day is read at a time, so days complete (and commit) oldest first.
 */
class RegionReader {
  private readonly client: CloudTrailClient;
  private queue: Promise<void> = Promise.resolve();
  private lastRequest = 0;
  private lastDay: Promise<unknown> = Promise.resolve();
  /** Between two requests: a little over 1/rate, so clock and timer jitter stay under the rate. */
  private readonly interval: number;

  constructor(readonly region: string, rate: number, endpointUrl?: string) {
    this.interval = 1050 / rate;
    // No SDK retries: each attempt must pass the rate limit, so retries are ours (call()).
    this.client = new CloudTrailClient({ region, maxAttempts: 1, ...(endpointUrl ? { endpoint: endpointUrl } : {}) });
  }

  /** One request: can the credentials look up events here, and whose events are they? */
  async probe(): Promise<{ region: string; error: string | null; account: string | null }> {
    try {
      const out = await this.call({ MaxResults: 1, LookupAttributes: [{ AttributeKey: 'EventSource', AttributeValue: EVENT_SOURCES[0] }] });
      const event = out.Events?.[0]?.CloudTrailEvent;
      const account = event ? (JSON.parse(event) as { recipientAccountId?: string }).recipientAccountId ?? null : null;
      return { region: this.region, error: null, account };
    } catch (err) {
      return { region: this.region, error: explain(err, this.region), account: null };
    }
  }

  readDay(uri: string, day: string): Promise<Uint8Array> {
    const read = this.lastDay.catch(() => {}).then(() => this.lookupDay(uri, day));
    this.lastDay = read;
    return read;
  }

  private async lookupDay(uri: string, day: string): Promise<Uint8Array> {
    const now = Date.now();
    // LookupEvents' bounds are inclusive and in seconds, as eventTime is: the day is 00:00:00 to 23:59:59.
    const start = Math.max(Date.parse(`${day}T00:00:00Z`), now - HISTORY_DAYS * 86_400_000);
    const end = Math.min(Date.parse(`${day}T23:59:59Z`), now);
    const records: string[] = [];
    try {
      for (const source of EVENT_SOURCES) {
        let token: string | undefined;
        do {
          const out = await this.call({
            StartTime: new Date(start), EndTime: new Date(end), MaxResults: PAGE_SIZE, NextToken: token,
            LookupAttributes: [{ AttributeKey: 'EventSource', AttributeValue: source }],
          });
          for (const e of out.Events ?? []) if (e.CloudTrailEvent) records.push(e.CloudTrailEvent);
          if (out.NextToken !== undefined && out.NextToken === token) throw new Error(`LookupEvents returned the same NextToken twice`);
          token = out.NextToken;
        } while (token);
      }
    } catch (err) {
      throw new ReadError(`${uri}: ${explain(err, this.region)}`, isDenied(err));
    }
    return new TextEncoder().encode(`{"Records":[${records.join(',')}]}`);
  }

  /** One LookupEvents request in its turn, retried with backoff when throttled or failing. */
  private async call(input: LookupEventsCommandInput): Promise<LookupEventsCommandOutput> {
    for (let attempt = 1; ; attempt++) {
      await this.turn();
      try {
        return await this.client.send(new LookupEventsCommand(input));
      } catch (err) {
        if (attempt >= MAX_ATTEMPTS || !isRetryable(err)) throw err;
        // From one request interval (about 500 ms at AWS's rate), doubling.
        const backoff = Math.min(20_000, this.interval * 2 ** (attempt - 1));
        await sleep(backoff / 2 + Math.random() * (backoff / 2));
      }
    }
  }

  /**
   * Waits for this region's next request: in order, each interval after the one before was
   * let go (not after it was queued), so requests stay apart even after the process stalled.
   */
  private turn(): Promise<void> {
    const mine = this.queue.then(async () => {
      const wait = this.lastRequest + this.interval - Date.now();
      if (wait > 0) await sleep(wait);
      this.lastRequest = Date.now();
    });
    this.queue = mine;
    return mine;
  }

  close(): void {
    this.client.destroy();
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface AwsError { name?: string; message?: string; $metadata?: { httpStatusCode?: number } }

const DENIED = new Set(['AccessDeniedException', 'AccessDenied', 'UnauthorizedOperation', 'OperationNotPermittedException']);
const THROTTLED = new Set(['ThrottlingException', 'Throttling', 'TooManyRequestsException', 'RequestLimitExceeded']);

function isDenied(err: unknown): boolean {
  const e = err as AwsError;
  return DENIED.has(e.name ?? '') || e.$metadata?.httpStatusCode === 403;
}

function isRetryable(err: unknown): boolean {
  const e = err as AwsError;
  const status = e.$metadata?.httpStatusCode;
  if (THROTTLED.has(e.name ?? '') || status === 429) return true;
  if (status !== undefined) return status >= 500;
  return !isDenied(err) && e.name !== 'CredentialsProviderError'; // no answer at all: the connection failed
}

/** An error as the user must read it: a denial names the permission that is missing. */
function explain(err: unknown, region: string): string {
  const text = describeAwsError(err);
  return isDenied(err) ? `${text}: the credentials need cloudtrail:LookupEvents in ${region}` : text;
}
