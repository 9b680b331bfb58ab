// Listing an S3 bucket the way every S3-compatible server answers: ListObjectsV2 pages, and the
// folders under a prefix found one request each (StartAfter), not with Delimiter, which some
// servers (s3rver) answer wrongly for nested keys. Shared by the log source and by verify.

import { ListObjectsV2Command, type ListObjectsV2CommandOutput, type S3Client } from '@aws-sdk/client-s3';
import { SourceError } from '../source/source.js';
import { describeS3Error } from './s3-client.js';

const HIGHEST = '\uffff'; // sorts after every ASCII key: StartAfter prefix+HIGHEST skips the whole prefix

export class S3Lister {
  constructor(private readonly client: S3Client, readonly bucket: string) {}

  /** The distinct next path segments under a prefix, one request each (StartAfter skips the rest). */
  async *children(prefix: string): AsyncGenerator<string> {
    let startAfter = prefix;
    for (;;) {
      const out = await this.send(prefix, startAfter, 1);
      const key = out.Contents?.[0]?.Key;
      if (!key) return;
      const rest = key.slice(prefix.length);
      const slash = rest.indexOf('/');
      if (slash === -1) {
        startAfter = key; // a file at this level
        continue;
      }
      const child = rest.slice(0, slash);
      yield child;
      startAfter = `${prefix}${child}/${HIGHEST}`;
    }
  }

  /**
   * The <...>/AWSLogs/[<o-id>/]<account>/<folder>/<region>/ folders at or under a prefix, found level
   * by level (folder: CloudTrail for logs, CloudTrail-Digest for digests). A prefix below a region
   * folder (a day) is yielded itself when `deeper`, else nothing is.
   */
  async *regionFolders(prefix: string, folder: string, deeper: boolean): AsyncGenerator<string> {
    const at = prefix.indexOf('AWSLogs/');
    const root = at === -1 ? `${prefix}AWSLogs/` : prefix.slice(0, at + 'AWSLogs/'.length); // the trail's own prefix, or none
    const parts = at === -1 ? [] : prefix.slice(root.length).split('/').filter(Boolean);
    yield* this.walk(root, parts, folder, deeper);
  }

  private async *walk(root: string, parts: string[], folder: string, deeper: boolean): AsyncGenerator<string> {
    const accountAt = parts[0]?.startsWith('o-') ? 1 : 0; // organization trails add AWSLogs/<o-id>/
    const here = root + parts.map((p) => `${p}/`).join('');
    if (parts.length <= accountAt) {
      for await (const child of this.children(here)) yield* this.walk(root, [...parts, child], folder, deeper);
    } else if (parts.length === accountAt + 1) {
      yield* this.walk(root, [...parts, folder], folder, deeper);
    } else if (parts[accountAt + 1] !== folder) {
      return;
    } else if (parts.length === accountAt + 2) {
      for await (const region of this.children(here)) yield `${here}${region}/`;
    } else if (parts.length === accountAt + 3 || deeper) {
      yield here;
    }
  }

  /** Every page of objects under a prefix, from after `startAfter`. */
  async *pages(prefix: string, startAfter?: string): AsyncGenerator<ListObjectsV2CommandOutput> {
    let token: string | undefined;
    do {
      const out = await this.send(prefix, token ? undefined : startAfter, undefined, token);
      yield out;
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
  }

  private async send(prefix: string, startAfter?: string, maxKeys?: number, token?: string): Promise<ListObjectsV2CommandOutput> {
    try {
      return await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, StartAfter: startAfter, MaxKeys: maxKeys, ContinuationToken: token }),
      );
    } catch (err) {
      throw new SourceError(`s3://${this.bucket}/${prefix}: listing failed: ${describeS3Error(err)}`);
    }
  }
}
