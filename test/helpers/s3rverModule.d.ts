// The parts of s3rver 3 (which ships no types) that test/helpers/s3rverChild.ts uses. (Not named s3rver.d.ts: tsc
// would take that for the declarations of s3rver.ts and ignore it.)
declare module 's3rver' {
  export interface S3rverContext {
    method: string;
    path: string;
    query: Record<string, string | string[] | undefined>;
    status: number;
    body: unknown;
    type: string;
  }
  export type S3rverMiddleware = (ctx: S3rverContext, next: () => Promise<void>) => unknown;
  export default class S3rver {
    constructor(options: { directory: string; address?: string; port?: number; silent?: boolean; configureBuckets?: { name: string }[] });
    run(): Promise<{ address: string; port: number }>;
    close(): Promise<void>;
    store: unknown;
    context: { store: unknown };
    /** Koa's middleware list, composed when the server starts listening. */
    middleware: S3rverMiddleware[];
  }
}

declare module 's3rver/lib/stores/filesystem.js' {
  import type { Readable } from 'node:stream';
  export interface S3rverObject {
    bucket: string;
    key: string;
    content: Readable | Buffer;
    metadata: Record<string, string>;
  }
  export default class FilesystemStore {
    constructor(rootDirectory: string);
    getResourcePath(bucket: string, key: string | undefined, resource: string): string;
    putMetadata(bucket: string, key: string, metadata: Record<string, string>, md5?: string): Promise<void>;
    putObject(object: S3rverObject): Promise<{ size: number; md5: string }>;
  }
}
