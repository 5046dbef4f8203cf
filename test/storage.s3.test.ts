/**
 * S3Storage against s3rver: the shared storage contract, then what only S3 has — key prefixes, paged
 * listings, presigned URLs, multipart uploads that must not outlive a failed put — and serveObject on top.
 */
import { AbortMultipartUploadCommand, ListMultipartUploadsCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../src/config/schema.ts';
import { openObjectForHttp } from '../src/media/serveObject.ts';
import { FileStorage } from '../src/media/storage/files.ts';
import { openStorage } from '../src/media/storage/open.ts';
import { createS3Storage, MAX_PRESIGN_SECONDS, S3Storage } from '../src/media/storage/s3.ts';
import { parseContentRange, trimmedBody } from '../src/media/storage/s3Body.ts';
import { PART_SIZE } from '../src/media/storage/s3Upload.ts';
import { collect, readAll, runStorageContract } from './contracts/storage.contract.ts';
import { startS3rver, type TestS3 } from './helpers/s3rver.ts';

let s3: TestS3;
beforeAll(async () => {
  s3 = await startS3rver();
});
afterAll(async () => {
  await s3?.close();
});

runStorageContract('S3Storage on s3rver', async () => ({ storage: createS3Storage(s3.settings()), cleanup: async () => {} }));

const bytes = (n: number, seed = 0) => Buffer.from(Array.from({ length: n }, (_, i) => (i + seed) % 251));
const now = () => Math.floor(Date.now() / 1000);

/** The names of the commands `client` sends, in order. */
function recordCommands(client: S3Client): string[] {
  const sent: string[] = [];
  client.middlewareStack.add(
    (next, context) => (args) => {
      sent.push(context.commandName ?? '?');
      return next(args);
    },
    { step: 'initialize' },
  );
  return sent;
}

describe('S3Storage', () => {
  const opened: S3Storage[] = [];
  const open = (overrides: Parameters<TestS3['settings']>[0] = {}) => {
    const storage = createS3Storage(s3.settings(overrides));
    opened.push(storage);
    return storage;
  };
  afterAll(async () => {
    await Promise.all(opened.map((s) => s.close()));
  });

  it('keeps each key prefix to itself', async () => {
    const a = open({ prefix: 'tenant-a/' });
    const b = open({ prefix: 'tenant-b' }); // normalised to 'tenant-b/', so 'tenant-bb/' is not inside it
    const bb = open({ prefix: 'tenant-bb/' });
    const root = open();
    await a.put('clip.mp4', Buffer.from('A'), { contentType: 'video/mp4' });
    await b.put('clip.mp4', Buffer.from('B'), { contentType: 'video/mp4' });
    await bb.put('x.mp4', Buffer.from('BB'), { contentType: 'video/mp4' });

    expect((await readAll((await a.get('clip.mp4'))!.body)).toString()).toBe('A');
    expect((await readAll((await b.get('clip.mp4'))!.body)).toString()).toBe('B');
    expect((await collect(b.list(''))).map((o) => o.key)).toEqual(['clip.mp4']);
    expect((await collect(root.list('tenant-'))).map((o) => o.key)).toEqual(['tenant-a/clip.mp4', 'tenant-b/clip.mp4', 'tenant-bb/x.mp4']);
    await a.delete('clip.mp4');
    expect(await a.stat('clip.mp4')).toBeUndefined();
    expect((await b.stat('clip.mp4'))?.bytes).toBe(1);
    for (const prefix of ['../x', '/abs', 'a//b', '.hidden']) expect(() => open({ prefix })).toThrow(/s3\.prefix/);
  });

  it('pages through listings and skips objects that are not storage keys', async () => {
    const base = open();
    const paged = new S3Storage({ client: base.client, bucket: s3.bucket, prefix: 'paged/', listPageSize: 2 });
    const sent = recordCommands(base.client);
    const names = ['a.bin', 'b/c.bin', 'b/d.bin', 'e.bin', 'f.bin'];
    for (const name of names) await paged.put(name, bytes(3), { contentType: 'application/octet-stream' });
    // What other S3 tools leave behind: a folder marker, names reelay would refuse.
    for (const foreign of ['paged/b/', 'paged/with space.mp4', 'paged/.hidden']) {
      await base.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: foreign, Body: 'x' }));
    }
    sent.length = 0;
    expect((await collect(paged.list(''))).map((o) => o.key)).toEqual(names);
    expect(sent.filter((c) => c === 'ListObjectsV2Command')).toHaveLength(4); // 8 objects, 2 a page
  });

  it.each([
    ['exactly one part as a single PutObject', PART_SIZE, ['PutObjectCommand']],
    ['one byte more as a multipart upload', PART_SIZE + 1, ['CreateMultipartUploadCommand', 'UploadPartCommand', 'UploadPartCommand', 'CompleteMultipartUploadCommand']],
  ])('uploads %s', async (_, size, commands) => {
    const storage = open({ prefix: 'parts/' });
    const sent = recordCommands(storage.client);
    const content = Buffer.alloc(size, 9);
    content.writeUInt32BE(0xdeadbeef, size - 4); // the last bytes land where a part boundary slip would show
    const chunks = [content.subarray(0, 1000), content.subarray(1000, size - 2), content.subarray(size - 2)];
    expect((await storage.put(`${size}.bin`, Readable.from(chunks), { contentType: 'application/octet-stream' })).bytes).toBe(size);
    expect(sent).toEqual(commands);
    expect((await readAll((await storage.get(`${size}.bin`))!.body)).equals(content)).toBe(true);
  });

  describe('presigned URLs', () => {
    const content = bytes(1000, 7);
    let signing: S3Storage;
    beforeAll(async () => {
      signing = open({ presign: true, prefix: 'signed/' });
      await signing.put('media/clip.mp4', content, { contentType: 'video/mp4' });
      await signing.put('media/page.html', Buffer.from('<script>alert(1)</script>'), { contentType: 'text/html' });
    });

    it('are fetchable, honour Range, and carry the type and disposition', async () => {
      const url = (await signing.presign('media/clip.mp4', now() + 3600))!;
      expect(new URL(url).pathname).toBe(`/${s3.bucket}/signed/media/clip.mp4`);
      expect(Number(new URL(url).searchParams.get('X-Amz-Expires'))).toBeGreaterThanOrEqual(3599);
      const whole = await fetch(url);
      expect(whole.status).toBe(200);
      expect(whole.headers.get('content-type')).toBe('video/mp4');
      expect(whole.headers.get('content-disposition')).toBe('inline; filename="clip.mp4"');
      expect(Buffer.from(await whole.arrayBuffer()).equals(content)).toBe(true);
      const part = await fetch(url, { headers: { Range: 'bytes=100-199' } });
      expect(part.status).toBe(206);
      expect(part.headers.get('content-range')).toBe('bytes 100-199/1000');
      expect(Buffer.from(await part.arrayBuffer()).equals(content.subarray(100, 200))).toBe(true);
      const page = await fetch((await signing.presign('media/page.html', now() + 60))!);
      expect(page.headers.get('content-disposition')).toBe('attachment; filename="page.html"');
      await page.arrayBuffer();
    });

    it('live at most 7 days, and are dead when asked for a past expiry', async () => {
      const far = new URL((await signing.presign('media/clip.mp4', now() + 30 * 86_400))!);
      expect(far.searchParams.get('X-Amz-Expires')).toBe(String(MAX_PRESIGN_SECONDS));
      const dead = await fetch((await signing.presign('media/clip.mp4', now() - 5))!);
      expect(dead.status).toBe(403);
      await dead.arrayBuffer();
    });

    it('are not handed out when the presign setting is off', async () => {
      expect(await open({ prefix: 'signed/' }).presign('media/clip.mp4', now() + 3600)).toBeUndefined();
    });
  });

  describe('a failed multipart put', () => {
    const MB = 1024 * 1024;
    /** 1 MB chunks up to `total` MB, then `end` (a clean end, or throwing). */
    function source(total: number, failAt?: number) {
      let produced = 0;
      async function* generate() {
        for (let i = 0; i < total; i++) {
          if (i === failAt) throw new Error('upstream connection reset');
          produced += MB;
          yield Buffer.alloc(MB, i);
        }
      }
      return { stream: Readable.from(generate()), produced: () => produced };
    }
    async function pendingUploads(storage: S3Storage) {
      const listed = await storage.client.send(new ListMultipartUploadsCommand({ Bucket: s3.bucket }));
      return (listed.Uploads ?? []).map((u) => u.Key);
    }

    it.each([
      ['passing maxBytes', 40, undefined, { code: 'too_large' }],
      ['a source error', 40, 12, { message: 'upstream connection reset' }],
    ])('on %s aborts its upload, leaving no object and no parts', async (_, total, failAt, error) => {
      const storage = open();
      const sent = recordCommands(storage.client);
      const key = `multipart/${failAt ?? 'big'}.mp4`;
      const body = source(total, failAt);
      await expect(storage.put(key, body.stream, { contentType: 'video/mp4', maxBytes: 12 * MB })).rejects.toMatchObject(error);
      // Two 5 MB parts went up before the failure: this really was a multipart upload, and it was aborted.
      expect(sent.filter((c) => c === 'UploadPartCommand')).toHaveLength(2);
      expect(sent).toContain('CreateMultipartUploadCommand');
      expect(sent).toContain('AbortMultipartUploadCommand');
      expect(sent).not.toContain('CompleteMultipartUploadCommand');
      expect(body.produced()).toBeLessThan(16 * MB);
      expect(await storage.stat(key)).toBeUndefined();
      expect(await pendingUploads(storage)).toEqual([]);
    });

    it('still reports too_large when the abort itself fails', async () => {
      const storage = open();
      storage.client.middlewareStack.add(
        (next, context) => (args) => {
          if (context.commandName === 'AbortMultipartUploadCommand') throw new Error('abort refused');
          return next(args);
        },
        { step: 'initialize' },
      );
      await expect(storage.put('multipart/stuck.mp4', source(40).stream, { contentType: 'video/mp4', maxBytes: 6 * MB })).rejects.toMatchObject({ code: 'too_large' });
      // The parts stay (a bucket lifecycle rule reaps them in production); clean up with a working client.
      const cleaner = open();
      const listed = await cleaner.client.send(new ListMultipartUploadsCommand({ Bucket: s3.bucket }));
      expect(listed.Uploads?.map((u) => u.Key)).toEqual(['multipart/stuck.mp4']);
      await cleaner.client.send(new AbortMultipartUploadCommand({ Bucket: s3.bucket, Key: 'multipart/stuck.mp4', UploadId: listed.Uploads![0].UploadId }));
      expect(await pendingUploads(cleaner)).toEqual([]);
    });
  });

  describe('served over HTTP by serveObject', () => {
    const clip = bytes(1000, 3);
    let storage: S3Storage;
    let tag: string;
    beforeAll(async () => {
      storage = open({ prefix: 'served/' });
      tag = `"${(await storage.put('media/clip.mp4', clip, { contentType: 'video/mp4' })).etag}"`;
    });
    const headers = (length: number) => ({
      'Accept-Ranges': 'bytes',
      'Content-Length': String(length),
      'Content-Type': 'video/mp4',
      ETag: tag,
      'Content-Disposition': 'inline; filename="clip.mp4"',
      'X-Content-Type-Options': 'nosniff',
    });

    it('answers GET 200 and HEAD with the same headers', async () => {
      const res = await openObjectForHttp(storage, 'media/clip.mp4', { method: 'GET' });
      expect([res.status, res.headers]).toEqual([200, headers(1000)]);
      expect((await readAll(res.body!)).equals(clip)).toBe(true);
      expect(await openObjectForHttp(storage, 'media/clip.mp4', { method: 'HEAD', range: 'bytes=0-9' })).toEqual({ status: 200, headers: headers(1000) });
    });

    it('answers a Range with 206, a matching If-None-Match with 304, a Range past the end with 416', async () => {
      const part = await openObjectForHttp(storage, 'media/clip.mp4', { method: 'GET', range: 'bytes=0-0' });
      expect([part.status, part.headers]).toEqual([206, { ...headers(1), 'Content-Range': 'bytes 0-0/1000' }]);
      expect((await readAll(part.body!)).equals(clip.subarray(0, 1))).toBe(true);
      expect(await openObjectForHttp(storage, 'media/clip.mp4', { method: 'GET', ifNoneMatch: tag, range: 'bytes=0-9' })).toEqual({ status: 304, headers: { ETag: tag } });
      expect(await openObjectForHttp(storage, 'media/clip.mp4', { method: 'GET', range: 'bytes=1000-' })).toEqual({
        status: 416,
        headers: { 'Accept-Ranges': 'bytes', 'Content-Range': 'bytes */1000' },
      });
      expect(await openObjectForHttp(storage, 'media/missing.mp4', { method: 'GET' })).toEqual({ status: 404, headers: {} });
    });
  });
});

describe('reading ranges from S3-compatible servers', () => {
  it('parses Content-Range', () => {
    expect(parseContentRange('bytes 10-19/1000')).toEqual({ start: 10, end: 19, size: 1000 });
    for (const header of [undefined, '', 'bytes */1000', 'bytes 10-19/*', 'items 1-2/3']) expect(parseContentRange(header)).toBeUndefined();
  });

  it('trims a body that holds more than the range asked for, and stops reading it', async () => {
    const whole = bytes(1000);
    const source = Readable.from([whole.subarray(0, 300), whole.subarray(300, 700), whole.subarray(700)], { objectMode: false });
    const trimmed = trimmedBody(source, { start: 0, end: 999 }, { start: 250, end: 349 });
    expect((await readAll(trimmed)).equals(whole.subarray(250, 350))).toBe(true);
    expect(source.destroyed).toBe(true);
    const exact = Readable.from([whole]);
    expect(trimmedBody(exact, { start: 0, end: 999 }, { start: 0, end: 999 })).toBe(exact);
  });

  it('fails when the server sent less than the range', async () => {
    expect(() => trimmedBody(Readable.from([bytes(10)]), { start: 5, end: 14 }, { start: 0, end: 9 })).toThrow(/sent bytes 5-14/);
    const short = trimmedBody(Readable.from([bytes(10)]), { start: 0, end: 99 }, { start: 0, end: 49 });
    await expect(readAll(short)).rejects.toThrow(/ended after 10 of 50 bytes/);
  });
});

describe('openStorage and createS3Storage', () => {
  it('opens S3 when the s3 section is set, else files under <data_dir>/objects', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'reelay-open-'));
    try {
      const files = openStorage(configSchema.parse({ data_dir: dataDir }));
      expect(files).toBeInstanceOf(FileStorage);
      expect((files as FileStorage).root).toBe(path.join(dataDir, 'objects'));
      const s3Storage = openStorage(configSchema.parse({ data_dir: dataDir, s3: s3.settings({ prefix: 'opened' }) }));
      expect(s3Storage).toBeInstanceOf(S3Storage);
      expect([(s3Storage as S3Storage).bucket, (s3Storage as S3Storage).prefix]).toEqual([s3.bucket, 'opened/']);
      await s3Storage.put('a.png', Buffer.from('png'), { contentType: 'image/png' });
      expect((await s3Storage.stat('a.png'))?.bytes).toBe(3);
      await s3Storage.close?.();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('refuses half a set of credentials', () => {
    expect(() => createS3Storage(s3.settings({ secret_access_key: undefined }))).toThrow(/access_key_id and secret_access_key/);
  });
});
