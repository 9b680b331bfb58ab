// How the local AWS endpoints (tests and demo) listen: an HTTP server on 127.0.0.1 at a free port, each
// request handed over with its whole body.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LocalServer {
  endpoint: string;
  /** Drops open (keep-alive) connections and closes the server. */
  stop(): Promise<void>;
}

export async function listenLocally(
  handle: (req: IncomingMessage, res: ServerResponse, body: Buffer) => unknown,
): Promise<LocalServer> {
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    await handle(req, res, Buffer.concat(chunks));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
