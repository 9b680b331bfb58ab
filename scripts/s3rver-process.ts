// Runs s3rver (a local S3-compatible server) on 127.0.0.1 and prints its port. Started by local-s3.ts
// in its own process because s3rver's ListObjectsV2 paging needs Node's legacy OpenSSL provider.

import S3rver from 's3rver';

const directory = process.argv[2];
const server = new S3rver({ port: 0, address: '127.0.0.1', directory, silent: true, allowMismatchedSignatures: true });
const { port } = await server.run();
process.stdout.write(`${port}\n`);
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
