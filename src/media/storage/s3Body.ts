/**
 * Reading ranges from S3-compatible servers: parsing Content-Range, and trimming a GET body to the range that
 * was asked for when a server sends more than that.
 */
import { Readable } from 'node:stream';
import type { ByteRange } from './types.ts';

/** Parses `bytes <start>-<end>/<size>`; undefined when absent or not of that form. */
export function parseContentRange(header: string | undefined): { start: number; end: number; size: number } | undefined {
  const m = header === undefined ? null : /^bytes (\d+)-(\d+)\/(\d+)$/.exec(header.trim());
  return m ? { start: Number(m[1]), end: Number(m[2]), size: Number(m[3]) } : undefined;
}

/**
 * The bytes `want` out of a body that holds `served` (inclusive offsets of the same object). Some servers
 * answer a Range with more than asked — a 200 with everything, or s3rver's `bytes=0-0` that sends the whole
 * object — and the caller must still get exactly the range it was told it gets.
 */
export function trimmedBody(body: Readable, served: ByteRange, want: ByteRange): Readable {
  if (served.start === want.start && served.end === want.end) return body;
  if (served.start > want.start || served.end < want.end) {
    body.destroy();
    throw new Error(`the server sent bytes ${served.start}-${served.end} for a request of ${want.start}-${want.end}`);
  }
  const skip = want.start - served.start;
  const length = want.end - want.start + 1;
  async function* slice() {
    let offset = 0; // of the body read so far
    let sent = 0;
    // Returning early ends the for-await, which destroys the body: the surplus is never downloaded.
    for await (const piece of body) {
      const chunk = piece as Buffer;
      const from = Math.max(0, skip - offset);
      const to = Math.min(chunk.length, skip + length - offset);
      offset += chunk.length;
      if (to > from) {
        sent += to - from;
        yield chunk.subarray(from, to);
      }
      if (sent === length) return;
    }
    throw new Error(`the object body ended after ${sent} of ${length} bytes`);
  }
  return Readable.from(slice(), { objectMode: false });
}
