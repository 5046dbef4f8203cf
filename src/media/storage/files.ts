/**
 * Object storage on the local file system: the object `results/task_x/0.mp4` is the plain file
 * `<root>/results/task_x/0.mp4`, so operators can inspect, back up or rsync the data dir as it is.
 *
 * Every name that starts with a dot is the storage's own (temp files, content-type sidecars): keys may not
 * start a segment with a dot, so the two never collide, and `list` skips them.
 *
 * Content type: derived from the extension when the type put is the usual one for it (video/mp4 for .mp4),
 * which is every object the gateway writes; any other type is kept in a sidecar `.<name>.ctype` next to
 * the object. The sidecar is renamed into place just before the object, so a reader can briefly see the
 * old bytes with the new type (never partial bytes) — only when a key is overwritten with a different
 * type, which the gateway never does (its keys are unique ids).
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, rmdir, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { assertValidContentType, assertValidKey, assertValidPrefix, assertValidRange, rangeNotSatisfiable, tooLarge } from './keys.ts';
import type { ByteRange, ObjectBody, ObjectStorage, StoredObject } from './types.ts';

// Moved to keys.ts (shared with the S3 backend); re-exported so existing imports keep working.
export { assertValidKey, assertValidPrefix, StorageError, type StorageErrorCode } from './keys.ts';

const TYPE_BY_EXTENSION: Record<string, string> = {
  mp4: 'video/mp4',
  webm: 'video/webm',
  mov: 'video/quicktime',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
  mp3: 'audio/mpeg',
  wav: 'audio/wav',
  json: 'application/json',
};

function typeFromExtension(key: string): string {
  const dot = key.lastIndexOf('.');
  const ext = dot > key.lastIndexOf('/') ? key.slice(dot + 1).toLowerCase() : '';
  return TYPE_BY_EXTENSION[ext] ?? 'application/octet-stream';
}

function isMissing(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function etagOf(st: { ino: bigint; size: bigint; mtimeNs: bigint }): string {
  // A rename keeps inode and mtime, so the tag of the temp file is the tag of the published object.
  return `${st.ino.toString(36)}-${st.size.toString(36)}-${st.mtimeNs.toString(36)}`;
}

function tempNameFor(file: string, suffix: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.${suffix}`);
}

function sidecarFor(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.ctype`);
}

export class FileStorage implements ObjectStorage {
  readonly kind = 'files' as const;
  readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  private fileOf(key: string): string {
    return path.join(this.root, ...key.split('/'));
  }

  async put(key: string, body: Readable | Buffer, opts: { contentType: string; maxBytes?: number }): Promise<StoredObject> {
    assertValidKey(key);
    assertValidContentType(opts.contentType);
    const maxBytes = opts.maxBytes ?? Infinity;
    if (Buffer.isBuffer(body) && body.length > maxBytes) throw tooLarge(maxBytes);

    const file = this.fileOf(key);
    const temp = tempNameFor(file, 'tmp');
    const handle = await openInFreshDir(temp);
    try {
      await writeAll(handle, body, maxBytes);
      await handle.sync(); // the object must survive a crash once put has answered
      const st = await handle.stat({ bigint: true });
      await handle.close();
      await this.publish(key, file, temp, opts.contentType);
      return { key, bytes: Number(st.size), contentType: opts.contentType, etag: etagOf(st) };
    } catch (e) {
      await handle.close().catch(() => {});
      await rm(temp, { force: true });
      throw e;
    }
  }

  private async publish(key: string, file: string, temp: string, contentType: string): Promise<void> {
    const sidecar = sidecarFor(file);
    if (contentType === typeFromExtension(key)) {
      await rename(temp, file);
      await rm(sidecar, { force: true });
      return;
    }
    const sidecarTemp = tempNameFor(file, 'ctype.tmp');
    try {
      await writeFile(sidecarTemp, contentType, { flag: 'wx' });
      await rename(sidecarTemp, sidecar);
    } finally {
      await rm(sidecarTemp, { force: true });
    }
    await rename(temp, file);
  }

  async get(key: string, range?: ByteRange): Promise<ObjectBody | undefined> {
    assertValidKey(key);
    if (range) assertValidRange(range);
    const file = this.fileOf(key);
    let handle: FileHandle;
    try {
      handle = await open(file, 'r');
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw e;
    }
    // Everything below reads through the open handle: a put that replaces the file meanwhile cannot mix
    // the old object's size with the new one's bytes.
    try {
      const st = await handle.stat({ bigint: true });
      if (!st.isFile()) {
        await handle.close();
        return undefined;
      }
      const bytes = Number(st.size);
      const contentType = await this.contentTypeOf(key, file);
      const object = { key, bytes, contentType, etag: etagOf(st) };
      if (!range) return { ...object, body: handle.createReadStream() };
      if (range.start >= bytes) {
        throw rangeNotSatisfiable(key, range, bytes);
      }
      const returned = { start: range.start, end: Math.min(range.end, bytes - 1) };
      return { ...object, range: returned, body: handle.createReadStream(returned) };
    } catch (e) {
      await handle.close();
      throw e;
    }
  }

  async stat(key: string): Promise<StoredObject | undefined> {
    assertValidKey(key);
    const file = this.fileOf(key);
    try {
      const st = await stat(file, { bigint: true });
      if (!st.isFile()) return undefined;
      return { key, bytes: Number(st.size), contentType: await this.contentTypeOf(key, file), etag: etagOf(st) };
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw e;
    }
  }

  private async contentTypeOf(key: string, file: string): Promise<string> {
    try {
      return (await readFile(sidecarFor(file), 'utf8')).trim();
    } catch (e) {
      if (isMissing(e)) return typeFromExtension(key);
      throw e;
    }
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key);
    const file = this.fileOf(key);
    try {
      await unlink(file);
    } catch (e) {
      // EISDIR/EPERM: the key names a directory of other keys, which is not an object.
      const code = (e as NodeJS.ErrnoException).code;
      if (!isMissing(e) && code !== 'EISDIR' && code !== 'EPERM') throw e;
    }
    await rm(sidecarFor(file), { force: true });
    await this.pruneEmptyDirs(path.dirname(file));
  }

  /** Retention sweeps would otherwise leave one empty directory per task behind, forever. */
  private async pruneEmptyDirs(dir: string): Promise<void> {
    for (let d = dir; d !== this.root && d.startsWith(this.root + path.sep); d = path.dirname(d)) {
      try {
        await rmdir(d);
      } catch {
        return; // not empty (or already gone): stop climbing
      }
    }
  }

  /** Keys starting with `prefix` (plain string prefix, as in S3), in no particular order. */
  async *list(prefix: string): AsyncIterable<StoredObject> {
    assertValidPrefix(prefix);
    yield* this.walk(prefix.slice(0, prefix.lastIndexOf('/') + 1), prefix);
  }

  private async *walk(dirKey: string, prefix: string): AsyncGenerator<StoredObject> {
    let entries;
    try {
      entries = await readdir(path.join(this.root, dirKey), { withFileTypes: true });
    } catch (e) {
      if (isMissing(e)) return;
      throw e;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const key = dirKey + entry.name;
      if (entry.isDirectory()) {
        const inside = key + '/';
        if (inside.startsWith(prefix)) yield* this.walk(inside, prefix);
      } else if (entry.isFile() && key.startsWith(prefix)) {
        const object = await this.stat(key); // undefined when deleted since readdir
        if (object) yield object;
      }
    }
  }
}

/** Opens `temp` exclusively, creating its directory; retried because a concurrent delete may prune it. */
async function openInFreshDir(temp: string): Promise<FileHandle> {
  for (let attempt = 1; ; attempt++) {
    try {
      await mkdir(path.dirname(temp), { recursive: true });
      return await open(temp, 'wx');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 3) throw e;
    }
  }
}

/**
 * Writes a body to `handle`, failing as soon as the total passes maxBytes. A stream is held to the streams'
 * buffers (16 KiB each) by backpressure, never read whole.
 */
async function writeAll(handle: FileHandle, source: Buffer | Readable, maxBytes: number): Promise<void> {
  // A Buffer's size was checked by put; writeFile writes it whole, however many write(2) calls that takes.
  if (Buffer.isBuffer(source)) return handle.writeFile(source);
  // Through a file write stream, as a plain stream copy does: chunks that arrive while a write is under way
  // go out together in one writev. Awaiting one write per chunk instead let the socket pause after every
  // 16 KiB, and 100 concurrent downloads queued tens of thousands of small writes on the thread pool:
  // re-hosting ran at 0.5–0.7 of a plain copy on a host with slower disks (docs/decisions/0012-performance.md).
  let total = 0;
  const limit = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      total += chunk.length;
      // An error here destroys the source too: the rest of an oversized body is never read.
      if (total > maxBytes) done(tooLarge(maxBytes));
      else done(null, chunk);
    },
  });
  // On the numeric fd: a stream made by handle.createWriteStream() holds a reference that keeps
  // handle.close() waiting until the stream closes the file itself, and put still needs it for sync and stat.
  await pipeline(source, limit, createWriteStream('', { fd: handle.fd, autoClose: false, emitClose: false }));
}
