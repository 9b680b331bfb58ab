// The one way keytrail makes an S3 client: the standard credential chain and region resolution,
// --endpoint-url or AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL for S3-compatible servers (path-style then).
// Shared by the log source (src/source/s3.ts) and the Parquet export (src/export/).

import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { S3Client } from '@aws-sdk/client-s3';

export interface S3ClientOptions {
  endpointUrl?: string;
  /** Sockets kept open per host: the most requests in flight at once. */
  concurrency: number;
  /** Attempts per request, the SDK's own retries for throttling, 5xx and connection errors (default 4). */
  maxAttempts?: number;
}

export async function makeS3Client(options: S3ClientOptions): Promise<S3Client> {
  const endpoint = options.endpointUrl ?? process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL;
  const agentOptions = { keepAlive: true, maxSockets: options.concurrency };
  const make = (region?: string) =>
    new S3Client({
      region,
      ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
      followRegionRedirects: true,
      maxAttempts: options.maxAttempts ?? (process.env.AWS_MAX_ATTEMPTS ? undefined : 4),
      // Checksums only where S3 requires them: S3-compatible servers (s3rver) store streamed,
      // checksummed bodies corrupted.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: { httpAgent: new HttpAgent(agentOptions), httpsAgent: new HttpsAgent(agentOptions) },
    });
  const client = make();
  try {
    await client.config.region();
    return client;
  } catch {
    // No region configured anywhere: any region works for a bucket, the SDK follows redirects.
    client.destroy();
    return make('us-east-1');
  }
}

/**
 * s3://bucket[/prefix] -> its parts, the prefix as a folder ('' or ending in '/'); null when `uri`
 * is not an s3:// URI with a bucket.
 */
export function splitS3Uri(uri: string): { bucket: string; prefix: string } | null {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!m || !m[1]) return null;
  const prefix = m[2] === '' || m[2].endsWith('/') ? m[2] : `${m[2]}/`;
  return { bucket: m[1], prefix };
}

export function describeS3Error(err: unknown): string {
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode;
  return `${e.name && e.name !== 'Error' ? `${e.name}: ` : ''}${e.message ?? String(err)}${status ? ` (HTTP ${status})` : ''}`;
}
