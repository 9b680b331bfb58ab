// A local S3 server (s3rver) for the demo, the benchmark and the tests, and a client for it.

import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import { builtCopy } from '../src/paths.js';

export interface LocalS3 {
  /** http://127.0.0.1:PORT */
  endpoint: string;
  /** The folder s3rver keeps its buckets in. */
  dir: string;
  /** Credentials, region and endpoint for a process that talks to this server (e.g. the keytrail CLI). */
  env: Record<string, string>;
  /** A client for this server (path-style, checksums only where required). */
  client: S3Client;
  createBucket(name: string): Promise<void>;
  /**
   * Stores body at bucket/key with a plain, anonymous PUT (s3rver takes those): for fixtures, where
   * the client is not what is tested. The SDK's middleware costs ~5x the CPU of s3rver's answer:
   * 917 objects took ~2 CPU-s in the SDK, ~0.3 this way (and s3rver ~1.8 -> ~1.2, no signature to check).
   */
  put(bucket: string, key: string, body: Uint8Array): Promise<void>;
  /** Kills the server and removes its folder (unless the folder was given). */
  stop(): Promise<void>;
}

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'; // the SDK's Node 22 notice

const CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/** The server's script: under vitest, the build's when it is current (src/paths.ts). */
function serverScript(): string {
  if (!import.meta.url.endsWith('.ts')) return fileURLToPath(new URL('./s3rver-process.js', import.meta.url));
  const source = new URL('./s3rver-process.ts', import.meta.url);
  return fileURLToPath(builtCopy(source) ?? source);
}

export async function startLocalS3(directory?: string): Promise<LocalS3> {
  const dir = directory ?? mkdtempSync(join(tmpdir(), 'keytrail-s3-'));
  const script = serverScript();
  const args = ['--openssl-legacy-provider', ...(script.endsWith('.ts') ? ['--import', 'tsx'] : []), script, dir];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`s3rver exited with code ${code}`)));
    child.stdout!.once('data', (data) => resolve(Number(String(data).trim())));
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const agent = new Agent({ keepAlive: true });
  const client = new S3Client({
    endpoint, forcePathStyle: true, region: 'us-east-1', credentials: CREDENTIALS,
    requestChecksumCalculation: 'WHEN_REQUIRED', // s3rver stores streamed checksummed bodies corrupted
  });
  return {
    endpoint,
    dir,
    client,
    env: { AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey, AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_S3: endpoint },
    createBucket: (name) => createBucket(client, name),
    put: async (bucket, key, body) => void (await plainRequest(agent, 'PUT', `${endpoint}${objectPath(bucket, key)}`, body)),
    stop: async () => {
      client.destroy();
      agent.destroy();
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      if (!directory) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Uploads every file under folder to bucket, keyed by its path relative to folder, with the user
 * metadata `metadata` gives for its key (a digest's signature: a folder has no metadata).
 */
export async function uploadFolder(
  client: S3Client, bucket: string, folder: string, files: string[], concurrency = 16,
  metadata: (key: string) => Record<string, string> | undefined = () => undefined,
): Promise<void> {
  await createBucket(client, bucket);
  const limit = pLimit(concurrency);
  await Promise.all(
    files.map((file) =>
      limit(async () => {
        const Key = relative(folder, file).split('\\').join('/');
        await client.send(new PutObjectCommand({ Bucket: bucket, Key, Body: await readFile(file), Metadata: metadata(Key) }));
      }),
    ),
  );
}

async function createBucket(client: S3Client, name: string): Promise<void> {
  await client.send(new CreateBucketCommand({ Bucket: name })).catch((err: Error) => {
    if (err.name !== 'BucketAlreadyOwnedByYou' && err.name !== 'BucketAlreadyExists') throw err;
  });
}

/** bucket/key as the path of a path-style URL. */
export const objectPath = (bucket: string, key: string): string => `/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;

/**
 * A plain, anonymous request to s3rver, which takes those: the body of a 200, else an error naming
 * the request. node:http, not fetch, which would decode a Content-Encoding (a gzipped log object).
 */
export function plainRequest(agent: Agent, method: 'GET' | 'PUT', url: string, body?: Uint8Array): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent, headers: body ? { 'content-length': body.length } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks);
        if (res.statusCode === 200) resolve(text);
        else reject(new Error(`${method} ${url}: ${res.statusCode} ${text.toString().slice(0, 200)}`));
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
