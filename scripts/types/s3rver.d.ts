// The part of s3rver's API keytrail uses (the package ships no types).
declare module 's3rver' {
  interface S3rverOptions {
    port?: number;
    address?: string;
    directory: string;
    silent?: boolean;
    allowMismatchedSignatures?: boolean;
  }
  export default class S3rver {
    constructor(options: S3rverOptions);
    run(): Promise<{ address: string; port: number }>;
    close(): Promise<void>;
    /** Its FilesystemStore: the methods the routes call to read and write the buckets' folders. */
    store: Record<string, unknown>;
  }
}
