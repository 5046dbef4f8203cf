/**
 * Streams a body into one S3 object holding at most one part (5 MB) of it in memory: a body that fits one part
 * is a single PutObject; a larger one a multipart upload, published atomically by CompleteMultipartUpload.
 * Any failure (too large, the source's error, S3's) aborts the multipart upload, so no parts linger.
 *
 * Why not lib-storage's Upload: its chunker concatenates every part into a fresh buffer and keeps the
 * previous one alive until the next is complete — two parts live plus a 5 MB buffer of garbage per part,
 * which V8 frees lazily. The storage contract's 64 MB test saw 16-20 MB of heap growth from that; this
 * fills one buffer and reuses it (the SDK is done with a part's bytes once UploadPart has answered).
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';
import { tooLarge } from './keys.ts';

/** S3's minimum size for every part but the last. */
export const PART_SIZE = 5 * 1024 * 1024;
/** S3's limit: with 5 MB parts an object can reach ~48.8 GiB. */
const MAX_PARTS = 10_000;

export interface UploadTarget {
  Bucket: string;
  Key: string;
  ContentType: string;
  ContentDisposition: string;
}

/** Uploads `source`; the object's ETag (as S3 sends it, quoted) and size. */
export async function uploadObject(
  client: S3Client,
  target: UploadTarget,
  source: Iterable<unknown> | AsyncIterable<unknown>,
  maxBytes: number,
): Promise<{ etag: string | undefined; bytes: number }> {
  const part = new PartBuffer();
  let bytes = 0;
  let upload: { id: string; parts: CompletedPart[] } | undefined;
  const sendPart = async () => {
    if (!upload) {
      const created = await client.send(new CreateMultipartUploadCommand(target));
      upload = { id: created.UploadId!, parts: [] };
    }
    const number = upload.parts.length + 1;
    if (number > MAX_PARTS) throw new Error(`${target.Key}: larger than S3 allows (${MAX_PARTS} parts of ${PART_SIZE} bytes)`);
    const sent = await client.send(new UploadPartCommand({ Bucket: target.Bucket, Key: target.Key, UploadId: upload.id, PartNumber: number, Body: part.contents() }));
    upload.parts.push({ PartNumber: number, ETag: sent.ETag });
    part.clear();
  };
  try {
    // Throwing inside for-await destroys a stream source: the rest of an oversized body is never read.
    for await (const piece of source) {
      let rest = asBuffer(piece);
      bytes += rest.length;
      if (bytes > maxBytes) throw tooLarge(maxBytes);
      while (rest.length > 0) {
        if (part.full) await sendPart(); // only once more bytes follow: the last part is never empty
        rest = part.add(rest);
      }
    }
    if (!upload) {
      const put = await client.send(new PutObjectCommand({ ...target, Body: part.contents() }));
      return { etag: put.ETag, bytes };
    }
    await sendPart();
    const done = await client.send(
      new CompleteMultipartUploadCommand({ Bucket: target.Bucket, Key: target.Key, UploadId: upload.id, MultipartUpload: { Parts: upload.parts } }),
    );
    return { etag: done.ETag, bytes };
  } catch (e) {
    if (upload) {
      // Best effort: the put's own error matters more; parts an abort could not remove are for the bucket's
      // AbortIncompleteMultipartUpload lifecycle rule (docs/decisions/0007-storage.md).
      await client.send(new AbortMultipartUploadCommand({ Bucket: target.Bucket, Key: target.Key, UploadId: upload.id })).catch(() => {});
    }
    throw e;
  }
}

/**
 * One part's bytes. The first part keeps the chunks as they came (a small object is never copied into a
 * 5 MB buffer); once a part fills up, its bytes move into one buffer that every later part reuses.
 */
class PartBuffer {
  private chunks: Buffer[] = [];
  private buffer: Buffer | undefined;
  private length = 0;

  get full(): boolean {
    return this.length === PART_SIZE;
  }

  /** Takes what fits of `chunk`; returns the rest. */
  add(chunk: Buffer): Buffer {
    const n = Math.min(PART_SIZE - this.length, chunk.length);
    if (this.buffer) chunk.copy(this.buffer, this.length, 0, n);
    else this.chunks.push(chunk.subarray(0, n));
    this.length += n;
    if (this.full && !this.buffer) {
      this.buffer = Buffer.concat(this.chunks, PART_SIZE);
      this.chunks = [];
    }
    return chunk.subarray(n);
  }

  /** The part's bytes, valid until clear(). */
  contents(): Buffer {
    if (this.buffer) return this.buffer.subarray(0, this.length);
    return this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.length);
  }

  clear(): void {
    this.length = 0;
  }
}

function asBuffer(piece: unknown): Buffer {
  if (Buffer.isBuffer(piece)) return piece;
  if (piece instanceof Uint8Array) return Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
  if (typeof piece === 'string') return Buffer.from(piece);
  throw new TypeError(`a storage body yields bytes, not ${typeof piece}`);
}
