// A real HTTP proxy in front of the local S3 server that fails some requests the way S3 does
// (503 SlowDown, a connection dropped halfway through a body) and logs every listing it serves.

import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FaultyProxy {
  endpoint: string;
  /** Listing requests: their query, and the keys S3 returned. */
  listings: Array<{ query: URLSearchParams; keys: string[] }>;
  faults: { slowDown: number; dropped: number };
  /** GETs of keys matching `match` answer `status`, every time, until the test changes this. */
  failing: Array<{ match: RegExp; status: 403 | 503 }>;
  close(): Promise<void>;
}

const ERRORS = {
  403: '<Code>AccessDenied</Code><Message>User: arn:aws:sts::111111111111:assumed-role/Audit/s is not authorized to perform: kms:Decrypt on the resource associated with this ciphertext because the resource does not exist in this Region, no resource-based policies allow access, or a resource-based policy explicitly denies access</Message>',
  503: '<Code>ServiceUnavailable</Code><Message>Service is unable to handle request.</Message>',
};

export interface FaultPlan {
  /** First GET of every Nth object answers 503 SlowDown. */
  slowDownEvery?: number;
  /** First GET of every Nth object is cut off after half its body. */
  dropEvery?: number;
  /**
   * Listings return at most this many keys a page (S3 may return fewer than max-keys), so paging
   * shows on a few hundred objects rather than the thousand of S3's default page.
   */
  listPageSize?: number;
}

export async function startFaultyProxy(target: string, plan: FaultPlan = {}): Promise<FaultyProxy> {
  const upstream = new URL(target);
  const seen = new Map<string, number>();
  let objectGets = 0;
  const proxy: FaultyProxy = { endpoint: '', listings: [], faults: { slowDown: 0, dropped: 0 }, failing: [], close: async () => {} };

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const isList = req.method === 'GET' && url.searchParams.get('list-type') === '2';
    const isObjectGet = req.method === 'GET' && !isList && url.pathname.split('/').filter(Boolean).length > 1;
    let nth = 0;
    if (isObjectGet) {
      const attempts = (seen.get(url.pathname) ?? 0) + 1;
      seen.set(url.pathname, attempts);
      if (attempts === 1) nth = ++objectGets;
    }
    const failing = isObjectGet ? proxy.failing.find((f) => f.match.test(url.pathname)) : undefined;
    if (failing) {
      res.writeHead(failing.status, { 'content-type': 'application/xml' });
      res.end(`<?xml version="1.0" encoding="UTF-8"?><Error>${ERRORS[failing.status]}</Error>`);
      return;
    }
    if (nth && plan.slowDownEvery && nth % plan.slowDownEvery === 0) {
      proxy.faults.slowDown++;
      res.writeHead(503, { 'content-type': 'application/xml' });
      res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>');
      return;
    }
    let path = req.url;
    const asked = Number(url.searchParams.get('max-keys') ?? 1000);
    if (isList && plan.listPageSize && asked > plan.listPageSize) {
      const query = new URLSearchParams(url.searchParams);
      query.set('max-keys', String(plan.listPageSize));
      path = `${url.pathname}?${query}`;
    }
    const forward = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path, headers: req.headers },
      (up: IncomingMessage) => {
        if (nth && plan.dropEvery && nth % plan.dropEvery === 0 && up.statusCode === 200) {
          proxy.faults.dropped++;
          const chunks: Buffer[] = [];
          up.on('data', (c: Buffer) => chunks.push(c));
          up.on('end', () => {
            const body = Buffer.concat(chunks);
            res.writeHead(200, up.headers);
            res.write(body.subarray(0, body.length >> 1));
            res.socket?.destroy(); // the connection drops mid-body
          });
          return;
        }
        if (!isList) {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
          return;
        }
        const chunks: Buffer[] = [];
        up.on('data', (c: Buffer) => chunks.push(c));
        up.on('end', () => {
          const body = Buffer.concat(chunks);
          const keys = [...body.toString().matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => m[1]);
          proxy.listings.push({ query: url.searchParams, keys });
          res.writeHead(up.statusCode ?? 502, up.headers);
          res.end(body);
        });
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () => new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  return proxy;
}
