/**
 * Object storage for uploads and results: local files by default, S3-compatible when configured.
 * Every implementation runs the shared contract suite in test/contracts/storage.contract.ts.
 */
import type { Readable } from 'node:stream';

export interface StoredObject {
  key: string;
  bytes: number;
  contentType: string;
  /**
   * Changes whenever the stored bytes do (a file's inode+size+mtime, an S3 ETag); opaque, unquoted.
   * Served as the HTTP ETag; optional because not every backend can give one cheaply.
   */
  etag?: string;
}

export interface ByteRange {
  /**
   * Inclusive start and end offsets, as in an HTTP Range header. An `end` past the last byte (Infinity
   * for "to the end") is clamped; a `start` past it throws an error with code 'range_not_satisfiable'.
   */
  start: number;
  end: number;
}

export interface ObjectBody extends StoredObject {
  body: Readable;
  /** The range actually returned, when one was asked for. */
  range?: ByteRange;
}

/**
 * Refusals throw an error whose `code` says why, the same for every backend: 'invalid_key' (keys are
 * relative paths of [A-Za-z0-9._-] segments not starting with a dot), 'too_large', 'range_not_satisfiable'.
 */
export interface ObjectStorage {
  readonly kind: 'files' | 's3';
  /**
   * Streams `body` into `key`, never holding it whole in memory. The object appears atomically: a reader
   * sees the old object or the whole new one, never a partial write. `maxBytes` aborts the write (and
   * removes what was written) when the stream turns out larger.
   */
  put(key: string, body: Readable | Buffer, opts: { contentType: string; maxBytes?: number }): Promise<StoredObject>;
  /** Opens the object (or a byte range of it); undefined when there is no such key. */
  get(key: string, range?: ByteRange): Promise<ObjectBody | undefined>;
  stat(key: string): Promise<StoredObject | undefined>;
  /** Removes the object; removing a missing key is not an error. */
  delete(key: string): Promise<void>;
  /** Keys under a prefix, for retention sweeps. */
  list(prefix: string): AsyncIterable<StoredObject>;
  /**
   * A URL the storage itself serves for `key` until `expiresAt` (unix seconds), such as an S3 presigned
   * URL; undefined when the gateway must serve the object itself at a gateway-signed URL.
   */
  presign?(key: string, expiresAt: number): Promise<string | undefined>;
  close?(): Promise<void>;
}
