// Runs s3rver (a local S3-compatible server) on 127.0.0.1 and prints its port. Started by local-s3.ts
// in its own process because s3rver's ListObjectsV2 paging needs Node's legacy OpenSSL provider.

import S3rver from 's3rver';

const directory = process.argv[2];
const server = new S3rver({ port: 0, address: '127.0.0.1', directory, silent: true, allowMismatchedSignatures: true });
rememberReads(server.store);
const { port } = await server.run();
process.stdout.write(`${port}\n`);
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));

/**
 * s3rver walks a bucket's folder (a stat per file, three files per object) and reads each object's
 * metadata (a stat and two files) for every listing, and a bucket's folder and configuration for
 * every request: a reader that lists a trail of ~900 objects per query made this server's CPU the
 * tests' largest. This process is the only writer to `directory`, so those reads are remembered
 * until any other store method (a write) starts or ends; a read that a write overlapped is not
 * kept. The same answers, exactly. A write of objects leaves what it cannot change: the bucket's
 * folder and configuration (getBucket, getSubresource of the bucket), which every request reads.
 */
function rememberReads(store: Record<string, unknown>): void {
  const remembered = ['listObjects', 'getMetadata', 'getBucket', 'getSubresource'];
  // Reads left as they are: paths, rare calls, and getObject, which reads through getMetadata.
  const uncached = ['constructor', 'getBucketPath', 'getResourcePath', 'listBuckets', 'existsObject', 'getObject'];
  // Writes that change objects only: they leave the bucket reads (getBucket, getSubresource of no
  // key) that each request makes. Every other write (putBucket, deleteBucket, reset, the
  // subresources ...) may change a bucket, and forgets those too.
  const objectWrites = ['putObject', 'copyObject', 'deleteObject', 'putMetadata', 'initiateUpload', 'putPart', 'putObjectMultipart'];
  const bucketRead = (name: string, args: unknown[]) => name === 'getBucket' || (name === 'getSubresource' && !args[1]);
  const cache = { bucket: new Map<string, Promise<unknown>>(), objects: new Map<string, Promise<unknown>>() };
  const writes = { bucket: 0, objects: 0 }; // bumped as a write starts and as it ends
  const forget = (all: boolean) => {
    writes.objects += 1;
    cache.objects.clear();
    if (!all) return;
    writes.bucket += 1;
    cache.bucket.clear();
  };
  const prototype = Object.getPrototypeOf(store) as Record<string, unknown>;
  for (const name of Object.getOwnPropertyNames(prototype)) {
    const method = prototype[name];
    if (typeof method !== 'function' || uncached.includes(name)) continue;
    if (remembered.includes(name)) {
      store[name] = (...args: unknown[]) => {
        const level = bucketRead(name, args) ? 'bucket' : 'objects';
        const key = JSON.stringify([name, ...args]);
        const known = cache[level].get(key);
        if (known) return known;
        const at = writes[level];
        const read = Promise.resolve(method.apply(store, args) as unknown);
        // Kept once it succeeded with no write in between (a missing object is asked again).
        read.then(() => at === writes[level] && cache[level].set(key, read), () => {});
        return read;
      };
      continue;
    }
    const all = !objectWrites.includes(name);
    store[name] = (...args: unknown[]) => {
      forget(all);
      const out = method.apply(store, args) as unknown;
      if (out instanceof Promise) return out.finally(() => forget(all));
      forget(all);
      return out;
    };
  }
}
