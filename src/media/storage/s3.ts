/**
 * Object storage in an S3-compatible bucket (AWS S3, MinIO, R2, Ceph...): the object `results/t/0.mp4` is
 * `<prefix>results/t/0.mp4` in the bucket. Same contract as the files backend; where S3 itself behaves
 * differently, docs/decisions/0007-storage.md says how.
 *
 * Puts stream in parts of 5 MB (s3Upload.ts): a single PutObject or a multipart upload, both of which S3
 * publishes atomically; a put that fails (too large, source error) leaves no object and no parts.
 */
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { Readable } from 'node:stream';
import type { ReelayConfig } from '../../config/schema.ts';
import { contentDispositionFor } from '../serveObject.ts';
import { assertValidContentType, assertValidKey, assertValidPrefix, assertValidRange, rangeNotSatisfiable, tooLarge } from './keys.ts';
import { parseContentRange, trimmedBody } from './s3Body.ts';
import { uploadObject } from './s3Upload.ts';
import type { ByteRange, ObjectBody, ObjectStorage, StoredObject } from './types.ts';

export type S3Settings = NonNullable<ReelayConfig['s3']>;

/** SigV4 presigned URLs live at most 7 days. */
export const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;
/** HEADs in flight while listing (ListObjectsV2 does not return content types). */
const LIST_HEAD_CONCURRENCY = 8;

export interface S3StorageOptions {
  client: S3Client;
  bucket: string;
  /** Prepended to every key; '' or segments, normalised to end in '/'. */
  prefix?: string;
  /** Whether presign hands out bucket URLs (else the gateway serves objects itself). */
  presign?: boolean;
  /** Keys per ListObjectsV2 page (S3 caps it at 1000). */
  listPageSize?: number;
}

export class S3Storage implements ObjectStorage {
  readonly kind = 's3' as const;
  readonly client: S3Client;
  readonly bucket: string;
  readonly prefix: string;
  private readonly presignEnabled: boolean;
  private readonly listPageSize: number;

  constructor(options: S3StorageOptions) {
    this.client = options.client;
    this.bucket = options.bucket;
    this.prefix = normalisePrefix(options.prefix ?? '');
    this.presignEnabled = options.presign ?? false;
    this.listPageSize = options.listPageSize ?? 1000;
  }

  private objectKey(key: string): string {
    return this.prefix + key;
  }

  async put(key: string, body: Readable | Buffer, opts: { contentType: string; maxBytes?: number }): Promise<StoredObject> {
    assertValidKey(key);
    assertValidContentType(opts.contentType);
    const maxBytes = opts.maxBytes ?? Infinity;
    if (Buffer.isBuffer(body) && body.length > maxBytes) throw tooLarge(maxBytes);
    const target = {
      Bucket: this.bucket,
      Key: this.objectKey(key),
      ContentType: opts.contentType,
      // Served as-is on presigned URLs, where the gateway cannot add it: HTML downloads, never renders.
      ContentDisposition: contentDispositionFor(key, opts.contentType),
    };
    try {
      const { etag, bytes } = await uploadObject(this.client, target, Buffer.isBuffer(body) ? [body] : body, maxBytes);
      return { key, bytes, contentType: opts.contentType, etag: unquote(etag) };
    } catch (e) {
      if (!Buffer.isBuffer(body)) body.destroy(); // S3 failed first: release the upstream connection too
      throw e;
    }
  }

  async get(key: string, range?: ByteRange): Promise<ObjectBody | undefined> {
    assertValidKey(key);
    if (range) assertValidRange(range);
    let res;
    try {
      const header = range ? `bytes=${range.start}-${range.end === Infinity ? '' : range.end}` : undefined;
      res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key), Range: header }));
    } catch (e) {
      if (isMissing(e)) return undefined;
      if (range && errorName(e) === 'InvalidRange') throw rangeNotSatisfiable(key, range, Number((e as { ActualObjectSize?: unknown }).ActualObjectSize));
      throw e;
    }
    const body = (res.Body as Readable | undefined) ?? Readable.from([]);
    const served = parseContentRange(res.ContentRange);
    const bytes = served?.size ?? res.ContentLength ?? 0;
    const object = { key, bytes, contentType: res.ContentType ?? 'application/octet-stream', etag: unquote(res.ETag) };
    if (!range) return { ...object, body };
    if (range.start >= bytes) {
      // S3 answers 416 itself; some compatible servers (s3rver) send a 206 for a range of an empty object.
      body.destroy();
      throw rangeNotSatisfiable(key, range, bytes);
    }
    const want = { start: range.start, end: Math.min(range.end, bytes - 1) };
    return { ...object, range: want, body: trimmedBody(body, served ?? { start: 0, end: bytes - 1 }, want) };
  }

  async stat(key: string): Promise<StoredObject | undefined> {
    assertValidKey(key);
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
      return { key, bytes: head.ContentLength ?? 0, contentType: head.ContentType ?? 'application/octet-stream', etag: unquote(head.ETag) };
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw e;
    }
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key);
    // DeleteObject answers 204 for a missing key too: idempotent as the contract asks.
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
  }

  /** Keys starting with `prefix`, in key order; each HEADed for its content type, which listings lack. */
  async *list(prefix: string): AsyncIterable<StoredObject> {
    assertValidPrefix(prefix);
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.objectKey(prefix), ContinuationToken: token, MaxKeys: this.listPageSize }),
      );
      // Objects other tools left under the prefix ('dir/' markers, odd names) are not ours to report.
      const keys = (page.Contents ?? []).map((o) => (o.Key ?? '').slice(this.prefix.length)).filter(isValidKey);
      for (let i = 0; i < keys.length; i += LIST_HEAD_CONCURRENCY) {
        const heads = await Promise.all(keys.slice(i, i + LIST_HEAD_CONCURRENCY).map((k) => this.stat(k)));
        for (const head of heads) if (head) yield head; // undefined when deleted since the listing
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  /**
   * A presigned GetObject URL valid until `expiresAt`, or until 7 days from now when that is sooner (the
   * longest SigV4 allows); undefined when the `presign` setting is off.
   */
  async presign(key: string, expiresAt: number): Promise<string | undefined> {
    assertValidKey(key);
    if (!Number.isFinite(expiresAt)) throw new TypeError(`invalid expiry ${expiresAt}`);
    if (!this.presignEnabled) return undefined;
    const command = new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) });
    const now = Math.floor(Date.now() / 1000);
    const until = Math.floor(expiresAt);
    if (until <= now) {
      // SigV4 cannot sign a lifetime of zero: sign the last second before `until`, so the URL is already dead.
      return getSignedUrl(this.client, command, { expiresIn: 1, signingDate: new Date((until - 1) * 1000) });
    }
    return getSignedUrl(this.client, command, { expiresIn: Math.min(until - now, MAX_PRESIGN_SECONDS) });
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}

/** S3Storage for the `s3` config section; credentials from the settings, else the SDK's default chain. */
export function createS3Storage(settings: S3Settings): S3Storage {
  const { access_key_id: accessKeyId, secret_access_key: secretAccessKey } = settings;
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
    throw new Error('s3: set both access_key_id and secret_access_key, or neither (to use the AWS default credential chain)');
  }
  const prefix = normalisePrefix(settings.prefix); // refused before a client exists that would need closing
  const client = new S3Client({
    region: settings.region,
    endpoint: settings.endpoint,
    forcePathStyle: settings.force_path_style,
    credentials: accessKeyId !== undefined && secretAccessKey !== undefined ? { accessKeyId, secretAccessKey } : undefined,
    // Flexible (CRC) checksums only when an operation requires them: many S3-compatible servers reject or
    // mangle them, and TLS already protects the bytes in transit.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return new S3Storage({ client, bucket: settings.bucket, prefix, presign: settings.presign });
}

function normalisePrefix(prefix: string): string {
  const normalised = prefix === '' || prefix.endsWith('/') ? prefix : prefix + '/';
  try {
    assertValidPrefix(normalised);
  } catch {
    throw new Error(`s3.prefix ${JSON.stringify(prefix)} must be '' or [A-Za-z0-9._-] segments, like "reelay/"`);
  }
  return normalised;
}

function isValidKey(key: string): boolean {
  try {
    assertValidKey(key);
    return true;
  } catch {
    return false;
  }
}

function errorName(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null ? (e as { name?: string }).name : undefined;
}

/**
 * GetObject says NoSuchKey; HeadObject has no body, so only NotFound — which it also says for a missing
 * bucket, but put, get and list report that one as NoSuchBucket.
 */
function isMissing(e: unknown): boolean {
  const name = errorName(e);
  return name === 'NoSuchKey' || name === 'NotFound';
}

function unquote(etag: string | undefined): string | undefined {
  return etag?.replace(/^(W\/)?"(.*)"$/, '$2');
}
