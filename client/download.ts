/**
 * Streams a result video to disk. The body is piped chunk by chunk into a temporary file beside the
 * target and renamed into place only when complete, so a crash or a cut connection never leaves a
 * truncated file under the final name, and memory stays flat whatever the video's size.
 *
 * No Authorization header is sent: result URLs are signed, and they may point at object storage on
 * another host, which must never see the API key.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import type { FetchLike } from './core.ts';
import { ConnectionError, ReelayError, errorFromResponse } from './errors.ts';

export interface DownloadProgress {
  received: number;
  /** From Content-Length, when the server sent it. */
  total?: number;
}

export interface DownloadOptions {
  onProgress?: (progress: DownloadProgress) => void;
  signal?: AbortSignal;
  fetch?: FetchLike;
}

export async function downloadVideo(url: string, path: string, opts: DownloadOptions = {}): Promise<{ path: string; bytes: number }> {
  const fetchImpl = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
  let res: Response;
  try {
    res = await fetchImpl(url, { signal: opts.signal });
  } catch (err) {
    if (opts.signal?.aborted) throw opts.signal.reason;
    throw new ConnectionError(`download ${url}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  if (!res.ok) {
    const text = await res.text().catch(() => '');
    let payload: unknown = text;
    try {
      payload = JSON.parse(text);
    } catch {
      // not JSON: the text itself is the message
    }
    throw errorFromResponse(res.status, payload, res.headers);
  }
  if (!res.body) throw new ReelayError(`download ${url}: empty answer`, { status: res.status });

  const lengthHeader = res.headers.get('content-length');
  // With a content-encoding the header counts compressed bytes, so it cannot check the decoded total.
  const total = lengthHeader !== null && !res.headers.get('content-encoding') ? Number(lengthHeader) : undefined;
  await mkdir(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.part`);
  let received = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      received += chunk.length;
      opts.onProgress?.({ received, total });
      done(null, chunk);
    },
  });
  try {
    const body = Readable.fromWeb(res.body as unknown as NodeReadableStream<Uint8Array>);
    await pipeline(body, counter, createWriteStream(tmp, { flags: 'wx' }), { signal: opts.signal });
    if (total !== undefined && received !== total) {
      throw new ConnectionError(`download ${url}: got ${received} of ${total} bytes`);
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    if (opts.signal?.aborted) throw opts.signal.reason;
    if (err instanceof ReelayError) throw err;
    throw new ConnectionError(`download ${url}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  return { path, bytes: received };
}
