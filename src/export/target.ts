// Where exported files go: a local folder or an S3 prefix. Both replace a file in one step, so a
// reader sees the old file or the new one, never a part of one and never both.

import { createReadStream } from 'node:fs';
import { copyFile, mkdir, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { DeleteObjectsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { makeS3Client, splitS3Uri } from '../aws/s3-client.js';
import { describeS3Error } from '../aws/s3-client.js';
import { TABLE_DIR } from './layout.js';

export interface ExportTarget {
  /** The destination as the user would write it: /abs/folder/ or s3://bucket/prefix/. */
  readonly name: string;
  /** A local folder for files before they are put (same file system as the target when local). */
  readonly stagingRoot: string;
  /** Keys (relative to the destination, '/'-separated) of the files under kms_events/. */
  list(): Promise<Set<string>>;
  /** Puts a local file at `key`, replacing what is there in one step. */
  put(localFile: string, key: string): Promise<void>;
  remove(keys: string[]): Promise<void>;
  close(): void;
}

export class ExportTargetError extends Error {}

export interface TargetOptions {
  endpointUrl?: string;
  /** Multipart part size for S3 uploads, bytes (at least 5 MiB). */
  partSize?: number;
  /** Parts uploaded at once per file. */
  queueSize?: number;
  /** Upload progress of a file: bytes sent so far, and the part (multipart uploads). */
  onProgress?: (key: string, loaded: number, part: number | undefined) => void;
}

export async function openTarget(dest: string, options: TargetOptions = {}): Promise<ExportTarget> {
  if (dest.startsWith('s3://')) {
    const parts = splitS3Uri(dest);
    if (!parts) throw new ExportTargetError(`${dest}: not an s3://bucket[/prefix] URI`);
    return new S3Target(await makeS3Client({ endpointUrl: options.endpointUrl, concurrency: 16 }), parts.bucket, parts.prefix, options);
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(dest)) throw new ExportTargetError(`${dest}: give a folder or an s3:// URI`);
  return new LocalTarget(resolve(dest));
}

class LocalTarget implements ExportTarget {
  readonly name: string;
  readonly stagingRoot: string;

  constructor(private readonly root: string) {
    this.name = root.endsWith(sep) ? root : `${root}${sep}`;
    this.stagingRoot = join(root, '.keytrail-staging');
  }

  async list(): Promise<Set<string>> {
    const keys = new Set<string>();
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw err;
      }
      for (const e of entries) {
        if (e.name.startsWith('.')) continue; // temp files of an interrupted run: not part of the data
        const path = join(dir, e.name);
        if (e.isDirectory()) await walk(path);
        else keys.add(relative(this.root, path).split(sep).join('/'));
      }
    };
    await walk(join(this.root, TABLE_DIR));
    return keys;
  }

  async put(localFile: string, key: string): Promise<void> {
    const final = join(this.root, ...key.split('/'));
    await mkdir(dirname(final), { recursive: true });
    // A dot-name beside the final one (hidden from readers), then one rename over it.
    const temp = join(dirname(final), `.${Date.now()}-${process.pid}-${Math.random().toString(36).slice(2)}.tmp`);
    try {
      await rename(localFile, temp);
    } catch {
      await copyFile(localFile, temp);
    }
    await rename(temp, final);
  }

  async remove(keys: string[]): Promise<void> {
    const dirs = new Set<string>();
    for (const key of keys) {
      const path = join(this.root, ...key.split('/'));
      await rm(path, { force: true });
      for (let d = dirname(path); d.startsWith(join(this.root, TABLE_DIR, 'event_date=')); d = dirname(d)) dirs.add(d);
    }
    // Empty partition folders go too, deepest first.
    for (const d of [...dirs].sort((a, b) => b.length - a.length)) await rmdir(d).catch(() => {});
  }

  close(): void {}
}

class S3Target implements ExportTarget {
  readonly name: string;
  readonly stagingRoot = join(tmpdir(), `keytrail-export-${process.pid}`);

  constructor(private readonly client: S3Client, private readonly bucket: string, private readonly prefix: string, private readonly options: TargetOptions) {
    this.name = `s3://${bucket}/${prefix}`;
  }

  async list(): Promise<Set<string>> {
    const keys = new Set<string>();
    let token: string | undefined;
    do {
      const out = await this.send('listing', () =>
        this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: `${this.prefix}${TABLE_DIR}/`, ContinuationToken: token })),
      );
      for (const o of out.Contents ?? []) if (o.Key) keys.add(o.Key.slice(this.prefix.length));
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }

  async put(localFile: string, key: string): Promise<void> {
    const size = (await stat(localFile)).size;
    // One PUT for a small file, a multipart upload for a large one: either way the object appears
    // whole when S3 completes it, replacing the previous version of the key.
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: `${this.prefix}${key}`, Body: createReadStream(localFile), ContentType: 'application/vnd.apache.parquet', ContentLength: size },
      partSize: this.options.partSize ?? 16 * 1024 * 1024,
      queueSize: this.options.queueSize ?? 4,
      leavePartsOnError: false,
    });
    const progress = this.options.onProgress;
    if (progress) upload.on('httpUploadProgress', (p) => progress(key, p.loaded ?? 0, p.part));
    await this.send(`upload of ${key}`, () => upload.done());
  }

  async remove(keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000);
      const out = await this.send('delete', () =>
        this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch.map((k) => ({ Key: `${this.prefix}${k}` })), Quiet: true } })),
      );
      const failed = out.Errors ?? [];
      if (failed.length > 0) {
        throw new ExportTargetError(`${this.name}: could not delete ${failed.map((e) => `${e.Key} (${e.Code}: ${e.Message})`).join(', ')}`);
      }
    }
  }

  close(): void {
    this.client.destroy();
  }

  private async send<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw new ExportTargetError(`${this.name}: ${what} failed: ${describeS3Error(err)}`);
    }
  }
}
