// A local AWS CloudTrail for the tests and the demo: an HTTP endpoint speaking CloudTrail's wire
// protocol (AWS JSON 1.1: POST /, X-Amz-Target: com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.<Operation> as
// the service model names it, or CloudTrail_20131101.<Operation> as SDK v3 sends it,
// application/x-amz-json-1.1), so the real @aws-sdk/client-cloudtrail is pointed at it
// (AWS_ENDPOINT_URL_CLOUDTRAIL) instead of being stubbed. The region is the SigV4 credential scope's.
//
// ListPublicKeys: the keys whose validity overlaps StartTime..EndTime (epoch seconds; without them,
// the current key only), one per page behind NextToken, Value as base64 DER and timestamps as epoch
// seconds.
//
// LookupEvents (Event history): the region's events of the last 90 days whose eventTime lies in
// StartTime..EndTime (epoch seconds, both inclusive), filtered by at most one LookupAttribute,
// newest first, MaxResults (1-50, default 50) per page, NextToken valid only for the same query.
// Each event as AWS answers it (EventId, EventName, EventTime, EventSource, Username, Resources ...)
// with the record itself as the CloudTrailEvent string. Rate limit: a token bucket of 2 requests a
// second per region as AWS's quota (lookupRate for another), burst 2; a request over it gets
// ThrottlingException (HTTP 400).
//
// With accessKeys, every request must be signed (SigV4) by one of them; deny(region) or
// denyAccessKey(key) answers AccessDeniedException.

import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listenLocally } from './local-server.js';
import type { TrailKey } from '../cloudtrail/digest-signing.js';
import { signatureValid } from './sigv4.js';

export type CloudTrailRecord = Record<string, unknown> & { eventID: string; eventTime: string; eventSource: string; eventName: string };

export interface CloudTrailCall {
  target: string;
  op: string;
  region: string;
  accessKey: string;
  body: Record<string, unknown>;
  /** When it arrived (ms since the epoch). */
  at: number;
  /** How it was answered: ok, or the error's __type. */
  outcome: string;
}

export interface CloudTrailServerOptions {
  /** Long-term access keys and their secrets: requests signed with others, or wrongly, are refused. */
  accessKeys?: Record<string, string>;
  /** The account the access keys belong to (in denial messages). */
  account?: string;
  /** Event history per region. */
  events?: Record<string, CloudTrailRecord[]>;
  /** LookupEvents requests a second per region (default 2, AWS's quota). */
  lookupRate?: number;
}

export interface CloudTrailServer {
  endpoint: string;
  calls: CloudTrailCall[];
  deny(region: string): void;
  denyAccessKey(accessKey: string): void;
  /** More events reach a region's Event history. */
  addEvents(region: string, records: CloudTrailRecord[]): void;
  /** The next n LookupEvents calls in a region are throttled, whatever the rate. */
  throttle(region: string, times: number): void;
  /** From now on, LookupEvents requests a second per region (as the lookupRate option). */
  setLookupRate(rate: number): void;
  /** The first LookupEvents call that matches is never answered; `arrived` resolves when it comes. */
  hold(match: (call: CloudTrailCall) => boolean): { arrived: Promise<void> };
  stop(): Promise<void>;
}

const TARGET_RE = /^(?:com\.amazonaws\.cloudtrail\.v20131101\.)?CloudTrail_20131101\.(\w+)$/;
const HISTORY_SECONDS = 90 * 86_400;
const LOOKUP_RATE = 2;
const BURST = 2;
const ATTRIBUTE_FIELDS: Record<string, (r: CloudTrailRecord) => string[]> = {
  EventId: (r) => [r.eventID],
  EventName: (r) => [r.eventName],
  EventSource: (r) => [r.eventSource],
  ReadOnly: (r) => [String(r.readOnly ?? '')],
  Username: (r) => [username(r) ?? ''],
  AccessKeyId: (r) => [String((r.userIdentity as { accessKeyId?: string } | undefined)?.accessKeyId ?? '')],
  ResourceType: (r) => resources(r).map((x) => x.ResourceType),
  ResourceName: (r) => resources(r).map((x) => x.ResourceName),
};

class ServiceError extends Error {
  constructor(readonly type: string, message: string, readonly status = 400) {
    super(message);
  }
}

const seconds = (iso: string) => Date.parse(iso) / 1000;

function username(r: CloudTrailRecord): string | undefined {
  const id = r.userIdentity as { userName?: string; sessionContext?: { sessionIssuer?: { userName?: string } }; principalId?: string } | undefined;
  return id?.userName ?? id?.sessionContext?.sessionIssuer?.userName ?? id?.principalId?.split(':')[1];
}

function resources(r: CloudTrailRecord): Array<{ ResourceType: string; ResourceName: string }> {
  const list = Array.isArray(r.resources) ? (r.resources as Array<{ ARN?: string; type?: string }>) : [];
  return list.filter((x) => x.ARN).map((x) => ({ ResourceType: x.type ?? '', ResourceName: x.ARN! }));
}

export async function startCloudTrailServer(keysByRegion: Record<string, TrailKey[]>, options: CloudTrailServerOptions = {}): Promise<CloudTrailServer> {
  const calls: CloudTrailCall[] = [];
  const denied = new Set<string>();
  const deniedKeys = new Set<string>();
  const history = new Map<string, Array<{ record: CloudTrailRecord; json: string }>>();
  const forced = new Map<string, number>();
  const buckets = new Map<string, { tokens: number; at: number }>();
  const holds: Array<{ match: (call: CloudTrailCall) => boolean; arrive: () => void }> = [];
  let rate = options.lookupRate ?? LOOKUP_RATE;

  const addEvents = (region: string, records: CloudTrailRecord[]) => {
    const list = history.get(region) ?? [];
    list.push(...records.map((record) => ({ record, json: JSON.stringify(record) })));
    // Newest first, as Event history answers.
    list.sort((a, b) => (a.record.eventTime < b.record.eventTime ? 1 : a.record.eventTime > b.record.eventTime ? -1 : a.record.eventID < b.record.eventID ? 1 : -1));
    history.set(region, list);
  };
  for (const [region, records] of Object.entries(options.events ?? {})) addEvents(region, records);

  function listPublicKeys(region: string, body: Record<string, unknown>) {
    const keys = keysByRegion[region] ?? [];
    const now = Date.now() / 1000;
    const start = typeof body.StartTime === 'number' ? body.StartTime : undefined;
    const end = typeof body.EndTime === 'number' ? body.EndTime : undefined;
    if (start !== undefined && end !== undefined && start > end) throw new ServiceError('InvalidTimeRangeException', 'StartTime is after EndTime');
    const matching = keys.filter((k) => start === undefined && end === undefined
      ? seconds(k.validFrom) <= now && now <= seconds(k.validUntil)
      : seconds(k.validUntil) >= (start ?? -Infinity) && seconds(k.validFrom) <= (end ?? now));
    const offset = typeof body.NextToken === 'string' ? Number(Buffer.from(body.NextToken, 'base64').toString()) : 0;
    if (!Number.isInteger(offset) || offset < 0 || offset > matching.length) throw new ServiceError('InvalidTokenException', 'Reset the token and retry.');
    const page = matching.slice(offset, offset + 1);
    return {
      PublicKeyList: page.map((k) => ({
        Value: k.value, ValidityStartTime: seconds(k.validFrom), ValidityEndTime: seconds(k.validUntil), Fingerprint: k.fingerprint,
      })),
      ...(offset + 1 < matching.length ? { NextToken: Buffer.from(String(offset + 1)).toString('base64') } : {}),
    };
  }

  /** Takes a request from the region's bucket, or throws ThrottlingException. */
  function admit(region: string): void {
    const now = Date.now();
    const left = forced.get(region) ?? 0;
    if (left > 0) {
      forced.set(region, left - 1);
      throw new ServiceError('ThrottlingException', 'Rate exceeded');
    }
    const b = buckets.get(region) ?? { tokens: BURST, at: now };
    b.tokens = Math.min(BURST, b.tokens + ((now - b.at) / 1000) * rate);
    b.at = now;
    buckets.set(region, b);
    if (b.tokens < 1) throw new ServiceError('ThrottlingException', 'Rate exceeded');
    b.tokens -= 1;
  }

  function lookupEvents(region: string, body: Record<string, unknown>) {
    const now = Date.now() / 1000;
    const max = body.MaxResults === undefined ? 50 : body.MaxResults;
    if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > 50) throw new ServiceError('InvalidMaxResultsException', 'MaxResults must be between 1 and 50');
    for (const k of ['StartTime', 'EndTime']) {
      if (body[k] !== undefined && typeof body[k] !== 'number') throw new ServiceError('SerializationException', `${k} must be a timestamp in epoch seconds`);
    }
    const start = (body.StartTime as number | undefined) ?? now - HISTORY_SECONDS;
    const end = (body.EndTime as number | undefined) ?? now;
    if (start > end) throw new ServiceError('InvalidTimeRangeException', 'Start time is after end time');
    const attributes = (body.LookupAttributes ?? []) as Array<{ AttributeKey?: string; AttributeValue?: string }>;
    if (!Array.isArray(attributes) || attributes.length > 1) throw new ServiceError('InvalidLookupAttributesException', 'You can specify at most one lookup attribute');
    const [attribute] = attributes;
    if (attribute && (!ATTRIBUTE_FIELDS[attribute.AttributeKey ?? ''] || typeof attribute.AttributeValue !== 'string')) {
      throw new ServiceError('InvalidLookupAttributesException', `invalid lookup attribute ${JSON.stringify(attribute)}`);
    }
    // A token names the query it belongs to and the last event it returned (stable when events arrive).
    const query = createHash('sha256').update(JSON.stringify([attribute ?? null, start, end])).digest('hex').slice(0, 16);
    let after: { time: string; id: string } | null = null;
    if (body.NextToken !== undefined) {
      const token = (() => {
        try {
          return JSON.parse(Buffer.from(String(body.NextToken), 'base64').toString()) as { q?: string; time?: string; id?: string };
        } catch {
          return null;
        }
      })();
      if (!token || token.q !== query || !token.time || !token.id) throw new ServiceError('InvalidNextTokenException', 'Invalid NextToken: it does not belong to this query');
      after = { time: token.time, id: token.id };
    }
    const oldest = now - HISTORY_SECONDS;
    const matching = (history.get(region) ?? []).filter(({ record }) => {
      const t = seconds(record.eventTime);
      if (t < start || t > end || t < oldest) return false;
      if (after && (record.eventTime > after.time || (record.eventTime === after.time && record.eventID >= after.id))) return false;
      return !attribute || ATTRIBUTE_FIELDS[attribute.AttributeKey!](record).includes(attribute.AttributeValue!);
    });
    const page = matching.slice(0, max);
    const last = page[page.length - 1];
    return {
      Events: page.map(({ record, json }) => ({
        EventId: record.eventID, EventName: record.eventName, ReadOnly: String(record.readOnly ?? 'false'),
        ...(typeof (record.userIdentity as { accessKeyId?: string } | undefined)?.accessKeyId === 'string' ? { AccessKeyId: (record.userIdentity as { accessKeyId: string }).accessKeyId } : {}),
        EventTime: seconds(record.eventTime), EventSource: record.eventSource,
        ...(username(record) ? { Username: username(record) } : {}),
        Resources: resources(record), CloudTrailEvent: json,
      })),
      ...(matching.length > max ? { NextToken: Buffer.from(JSON.stringify({ q: query, time: last.record.eventTime, id: last.record.eventID })).toString('base64') } : {}),
    };
  }

  async function handle(req: IncomingMessage, res: ServerResponse, raw: Buffer): Promise<void> {
    const send = (status: number, payload: unknown) => {
      res.writeHead(status, { 'Content-Type': 'application/x-amz-json-1.1', 'x-amzn-RequestId': randomUUID() });
      res.end(JSON.stringify(payload));
    };
    const target = String(req.headers['x-amz-target'] ?? '');
    const op = TARGET_RE.exec(target)?.[1] ?? '';
    let call: CloudTrailCall | undefined;
    try {
      if (req.method !== 'POST' || req.url !== '/' || !op) throw new ServiceError('UnknownOperationException', `unknown operation ${target}`);
      if (!String(req.headers['content-type'] ?? '').startsWith('application/x-amz-json-1.1')) throw new ServiceError('SerializationException', 'expected application/x-amz-json-1.1');
      const scope = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/\d{8}\/([^/]+)\/cloudtrail\/aws4_request, ?SignedHeaders=[^,]+, ?Signature=[0-9a-f]{64}$/.exec(String(req.headers.authorization ?? ''));
      if (!scope) throw new ServiceError('MissingAuthenticationTokenException', 'Missing Authentication Token', 403);
      const [, accessKey, region] = scope;
      if (options.accessKeys) {
        const secret = options.accessKeys[accessKey];
        if (secret === undefined) throw new ServiceError('UnrecognizedClientException', 'The security token included in the request is invalid.');
        if (!signatureValid(req, raw, secret)) throw new ServiceError('InvalidSignatureException', 'The request signature we calculated does not match the signature you provided.');
      }
      const body = JSON.parse(raw.toString() || '{}') as Record<string, unknown>;
      call = { target, op, region, accessKey, body, at: Date.now(), outcome: 'ok' };
      calls.push(call);
      if (denied.has(region) || deniedKeys.has(accessKey)) {
        const who = `arn:aws:iam::${options.account ?? '123456789012'}:user/${deniedKeys.has(accessKey) ? 'no-lookup' : 'auditor'}`;
        throw new ServiceError('AccessDeniedException', `User: ${who} is not authorized to perform: cloudtrail:${op} because no identity-based policy allows the cloudtrail:${op} action`);
      }
      if (op === 'ListPublicKeys') return send(200, listPublicKeys(region, body));
      if (op !== 'LookupEvents') throw new ServiceError('UnknownOperationException', `${op} is not served here`);
      admit(region);
      const answer = lookupEvents(region, body);
      const held = holds.findIndex((h) => h.match(call!));
      if (held >= 0) {
        holds.splice(held, 1)[0].arrive();
        return; // never answered: the client waits until it is killed or the server stops
      }
      send(200, answer);
    } catch (err) {
      const e = err instanceof ServiceError ? err : new ServiceError('InternalFailure', (err as Error).message, 500);
      if (call) call.outcome = e.type;
      send(e.status, { __type: e.type, message: e.message });
    }
  }

  const server = await listenLocally(handle);
  return {
    endpoint: server.endpoint,
    calls,
    deny: (region) => denied.add(region),
    denyAccessKey: (key) => deniedKeys.add(key),
    addEvents,
    throttle: (region, times) => forced.set(region, (forced.get(region) ?? 0) + times),
    setLookupRate: (r) => {
      rate = r;
    },
    hold: (match) => {
      let arrive!: () => void;
      const arrived = new Promise<void>((resolve) => (arrive = resolve));
      holds.push({ match, arrive });
      return { arrived };
    },
    stop: server.stop,
  };
}
