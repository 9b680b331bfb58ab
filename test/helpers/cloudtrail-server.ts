// A local AWS CloudTrail for tests: an HTTP endpoint speaking CloudTrail's wire protocol (AWS JSON
// 1.1: POST /, X-Amz-Target: com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.<Operation> as
// the service model names it, or CloudTrail_20131101.<Operation> as SDK v3 sends it,
// application/x-amz-json-1.1), so the real @aws-sdk/client-cloudtrail is pointed at it
// (AWS_ENDPOINT_URL_CLOUDTRAIL) instead of being stubbed. Serves ListPublicKeys: per region (from
// the SigV4 credential scope), the keys whose validity overlaps StartTime..EndTime (epoch seconds;
// without them, the current key only), one per page behind NextToken, Value as base64 DER and
// timestamps as epoch seconds. deny(region) answers a region with an error.

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listenLocally } from './local-server.js';
import type { TrailKey } from './digests.js';

export interface CloudTrailServer {
  endpoint: string;
  calls: Array<{ target: string; region: string; body: Record<string, unknown> }>;
  deny(region: string): void;
  stop(): Promise<void>;
}

const TARGET_RE = /^(?:com\.amazonaws\.cloudtrail\.v20131101\.)?CloudTrail_20131101\.(\w+)$/;

class ServiceError extends Error {
  constructor(readonly type: string, message: string) {
    super(message);
  }
}

export async function startCloudTrailServer(keysByRegion: Record<string, TrailKey[]>): Promise<CloudTrailServer> {
  const calls: CloudTrailServer['calls'] = [];
  const denied = new Set<string>();
  const seconds = (iso: string) => Date.parse(iso) / 1000;

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

  function handle(req: IncomingMessage, res: ServerResponse, raw: Buffer): void {
    const send = (status: number, payload: unknown) => {
      res.writeHead(status, { 'Content-Type': 'application/x-amz-json-1.1', 'x-amzn-RequestId': randomUUID() });
      res.end(JSON.stringify(payload));
    };
    const target = String(req.headers['x-amz-target'] ?? '');
    const op = TARGET_RE.exec(target)?.[1];
    try {
      if (req.method !== 'POST' || req.url !== '/' || !op) throw new ServiceError('UnknownOperationException', `unknown operation ${target}`);
      if (!String(req.headers['content-type'] ?? '').startsWith('application/x-amz-json-1.1')) throw new ServiceError('SerializationException', 'expected application/x-amz-json-1.1');
      const scope = /^AWS4-HMAC-SHA256 Credential=[^/]+\/\d{8}\/([^/]+)\/cloudtrail\/aws4_request/.exec(String(req.headers.authorization ?? ''));
      if (!scope) throw new ServiceError('MissingAuthenticationTokenException', 'Missing Authentication Token');
      const region = scope[1];
      const body = JSON.parse(raw.toString() || '{}') as Record<string, unknown>;
      calls.push({ target, region, body });
      if (denied.has(region)) throw new ServiceError('AccessDeniedException', `User is not authorized to perform: cloudtrail:${op} in ${region}`);
      if (op !== 'ListPublicKeys') throw new ServiceError('UnknownOperationException', `${op} is not served here`);
      send(200, listPublicKeys(region, body));
    } catch (err) {
      if (err instanceof ServiceError) send(err.type === 'MissingAuthenticationTokenException' ? 403 : 400, { __type: err.type, message: err.message });
      else send(500, { __type: 'InternalServerError', message: (err as Error).message });
    }
  }

  const server = await listenLocally(handle);
  return { endpoint: server.endpoint, calls, deny: (region) => denied.add(region), stop: server.stop };
}
