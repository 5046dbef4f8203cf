import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentDispositionFor, openObjectForHttp } from '../src/media/serveObject.ts';
import { loadOrCreateSecret, UrlSigner } from '../src/media/signedUrls.ts';
import { FileStorage } from '../src/media/storage/files.ts';
import type { ObjectStorage } from '../src/media/storage/types.ts';
import { collect, readAll, runStorageContract } from './contracts/storage.contract.ts';

async function tempDir(): Promise<string> {
  return mkdtemp(path.join(tmpdir(), 'reelay-files-'));
}

/** Every file and directory under `dir`, relative, sorted. */
async function tree(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).sort();
}

runStorageContract('FileStorage', async () => {
  const root = await tempDir();
  return { storage: new FileStorage(root), cleanup: () => rm(root, { recursive: true, force: true }) };
});

describe('FileStorage on disk', () => {
  let root: string;
  let storage: FileStorage;
  beforeAll(async () => {
    root = await tempDir();
    storage = new FileStorage(path.join(root, 'created', 'lazily'));
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('keeps an object as the plain file <root>/<key>, with no sidecar for its usual type', async () => {
    await storage.put('plain/task_1/0.mp4', Buffer.from('video bytes'), { contentType: 'video/mp4' });
    expect(await readFile(path.join(storage.root, 'plain/task_1/0.mp4'), 'utf8')).toBe('video bytes');
    expect(await tree(path.join(storage.root, 'plain'))).toEqual(['task_1', 'task_1/0.mp4']);
  });

  it('keeps an unusual content type in a dot-file sidecar, removed when no longer needed', async () => {
    const dir = path.join(storage.root, 'sidecar');
    await storage.put('sidecar/a.mp4', Buffer.from('x'), { contentType: 'video/mp4; codecs="avc1"' });
    expect(await tree(dir)).toEqual(['.a.mp4.ctype', 'a.mp4']);
    expect((await collect(storage.list('sidecar/'))).map((o) => o.key)).toEqual(['sidecar/a.mp4']);
    await storage.put('sidecar/a.mp4', Buffer.from('x'), { contentType: 'video/mp4' });
    expect(await tree(dir)).toEqual(['a.mp4']);
  });

  it('leaves no temp file behind after a refused or failed put', async () => {
    const dir = path.join(storage.root, 'failed');
    await storage.put('failed/keep.png', Buffer.from('old'), { contentType: 'image/png' });
    await expect(storage.put('failed/big.png', Readable.from([Buffer.alloc(70), Buffer.alloc(70)]), { contentType: 'image/png', maxBytes: 100 })).rejects.toMatchObject({ code: 'too_large' });
    await expect(storage.put('failed/keep.png', Readable.from([Buffer.alloc(70), Buffer.alloc(70)]), { contentType: 'application/x-odd', maxBytes: 100 })).rejects.toMatchObject({ code: 'too_large' });
    async function* breaks() {
      yield Buffer.from('partial');
      throw new Error('socket hang up');
    }
    await expect(storage.put('failed/other.png', Readable.from(breaks()), { contentType: 'image/png' })).rejects.toThrow('socket hang up');
    expect(await tree(dir)).toEqual(['keep.png']);
  });

  it('prunes directories emptied by delete, up to but not including the root', async () => {
    await storage.put('prune/a/b/c.mp4', Buffer.from('1'), { contentType: 'video/mp4' });
    await storage.put('prune/a/keep.mp4', Buffer.from('2'), { contentType: 'video/mp4' });
    await storage.delete('prune/a/b/c.mp4');
    expect(await tree(path.join(storage.root, 'prune'))).toEqual(['a', 'a/keep.mp4']);
    await storage.delete('prune/a/keep.mp4');
    await expect(stat(path.join(storage.root, 'prune'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await stat(storage.root)).isDirectory()).toBe(true);
    // A pruned directory is recreated by the next put.
    await storage.put('prune/a/b/c.mp4', Buffer.from('3'), { contentType: 'video/mp4' });
    expect((await storage.stat('prune/a/b/c.mp4'))?.bytes).toBe(1);
  });
});

describe('UrlSigner', () => {
  const secret = Buffer.alloc(32, 7);
  const signer = new UrlSigner(secret, 'http://127.0.0.1:8080');
  const expires = 1_800_000_000;

  /** What a router does with the URL: decode each path segment, read the query. */
  function parseSigned(url: string) {
    const u = new URL(url);
    expect(u.pathname.startsWith('/files/')).toBe(true);
    const key = u.pathname.slice('/files/'.length).split('/').map(decodeURIComponent).join('/');
    return { key, expires: u.searchParams.get('expires') ?? undefined, sig: u.searchParams.get('sig') ?? undefined };
  }

  it('signs a URL of the documented shape that verifies', () => {
    const url = signer.sign('results/task_01J9HA7JPQ9A0Z6JZ3V8M9W6PZ/0.mp4', expires);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:8080\/files\/results\/task_01J9HA7JPQ9A0Z6JZ3V8M9W6PZ\/0\.mp4\?expires=1800000000&sig=[A-Za-z0-9_-]{43}$/);
    const { key, expires: e, sig } = parseSigned(url);
    expect(signer.verify(key, e, sig, expires - 100)).toBe('ok');
    expect(signer.verify(key, Number(e), sig, expires - 100)).toBe('ok');
  });

  it('keeps a path prefix of the public base URL and drops its trailing slash', () => {
    expect(new UrlSigner(secret, 'https://cdn.example.com/reelay/').sign('a.mp4', 5)).toMatch(/^https:\/\/cdn\.example\.com\/reelay\/files\/a\.mp4\?expires=5&sig=/);
    expect(new UrlSigner(secret, 'http://127.0.0.1:8080/').sign('a.mp4', 5)).toMatch(/^http:\/\/127\.0\.0\.1:8080\/files\/a\.mp4\?/);
  });

  it('turns down a tampered key, expiry or signature', () => {
    const { key, sig } = parseSigned(signer.sign('uploads/2026-11-21/a.png', expires));
    const now = expires - 100;
    expect(signer.verify('uploads/2026-11-21/b.png', String(expires), sig, now)).toBe('bad_signature');
    expect(signer.verify(key + 'x', String(expires), sig, now)).toBe('bad_signature');
    for (const e of [String(expires + 1), '0' + expires, ` ${expires}`, `${expires}.0`, '1.8e9', '', undefined]) {
      expect(signer.verify(key, e, sig, now)).toBe('bad_signature');
    }
    const flipped = sig!.slice(0, 10) + (sig![10] === 'A' ? 'B' : 'A') + sig!.slice(11);
    for (const s of [flipped, sig!.slice(0, -1), sig + 'A', sig + '=', '', undefined]) {
      expect(signer.verify(key, String(expires), s, now)).toBe('bad_signature');
    }
    const other = new UrlSigner(Buffer.alloc(32, 8), 'http://127.0.0.1:8080');
    expect(other.verify(key, String(expires), sig, now)).toBe('bad_signature');
  });

  it('stops working at expires, not a second later', () => {
    const { key, sig } = parseSigned(signer.sign('a.mp4', expires));
    expect(signer.verify(key, String(expires), sig, expires - 1)).toBe('ok');
    expect(signer.verify(key, String(expires), sig, expires - 0.001)).toBe('ok');
    expect(signer.verify(key, String(expires), sig, expires)).toBe('expired');
    expect(signer.verify(key, String(expires), sig, expires + 1)).toBe('expired');
    // A forged URL is told it is forged, not whether it would have expired.
    expect(signer.verify('b.mp4', String(expires), sig, expires + 1)).toBe('bad_signature');
  });

  it('encodes keys with spaces, unicode and URL delimiters segment by segment', () => {
    const key = 'uploads/my clip ü 🎬/a#b?c%d+e&f=g.png';
    const url = signer.sign(key, expires);
    expect(url).toContain('/files/uploads/my%20clip%20%C3%BC%20%F0%9F%8E%AC/a%23b%3Fc%25d%2Be%26f%3Dg.png?expires=');
    const parsed = parseSigned(url);
    expect(parsed.key).toBe(key);
    expect(signer.verify(parsed.key, parsed.expires, parsed.sig, 0)).toBe('ok');
  });

  it('round-trips any key made of non-empty segments', () => {
    const segment = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }).filter((s) => !s.includes('/') && s !== '.' && s !== '..');
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 4 }), fc.nat({ max: 2 ** 40 }), (segments, e) => {
        const key = segments.join('/');
        const parsed = parseSigned(signer.sign(key, e));
        expect(parsed.key).toBe(key);
        expect(signer.verify(parsed.key, parsed.expires, parsed.sig, e - 1)).toBe('ok');
      }),
    );
  });

  it('knows its own URLs (keyOf) and no others: other hosts, paths outside its base, bad signatures, expired', () => {
    const prefixed = new UrlSigner(secret, 'https://cdn.example.com/reelay/');
    const url = prefixed.sign('inputs/a b.png', 100);
    expect(prefixed.keyOf(url, 99)).toBe('inputs/a b.png');
    expect(prefixed.keyOf(url.replace('HTTPS://', 'https://').replace('https://cdn.example.com', 'HTTPS://CDN.example.com:443'), 99)).toBe('inputs/a b.png');
    expect(prefixed.keyOf(url, 100)).toBeUndefined();
    expect(prefixed.keyOf(url.replace('cdn.example.com', 'cdn.example.org'), 99)).toBeUndefined();
    expect(prefixed.keyOf(url.replace('/reelay/files/', '/files/'), 99)).toBeUndefined();
    expect(prefixed.keyOf(url.replace('sig=', 'sig=x'), 99)).toBeUndefined();
    expect(prefixed.keyOf('not a url', 99)).toBeUndefined();
    expect(signer.keyOf(url, 99)).toBeUndefined();
  });

  it('refuses keys a URL path cannot carry, bad expiries, weak secrets and odd base URLs', () => {
    for (const key of ['', 'a//b', '../etc/passwd', 'a/./b', '/abs', 'trailing/']) expect(() => signer.sign(key, expires)).toThrow(TypeError);
    for (const e of [1.5, -1, NaN, 2 ** 60]) expect(() => signer.sign('a.mp4', e)).toThrow(TypeError);
    expect(() => new UrlSigner(Buffer.alloc(31), 'http://x')).toThrow(/32 bytes/);
    for (const base of ['ftp://x', 'http://x/?q=1', 'http://x/#h', 'not a url']) expect(() => new UrlSigner(secret, base)).toThrow();
  });
});

describe('loadOrCreateSecret', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir();
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('creates a 0600 secret of 32 random bytes once, then reads it back', async () => {
    const file = path.join(dir, 'nested', 'url-secret');
    const first = await loadOrCreateSecret(file);
    expect(first.length).toBeGreaterThanOrEqual(32);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await loadOrCreateSecret(file)).equals(first)).toBe(true);
    expect((await loadOrCreateSecret(path.join(dir, 'another'))).equals(first)).toBe(false);
  });

  it('agrees on one secret when created concurrently', async () => {
    const file = path.join(dir, 'raced');
    const secrets = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateSecret(file)));
    expect(secrets.every((s) => s.equals(secrets[0]))).toBe(true);
  });

  it("reads an operator's secret without its surrounding whitespace, and refuses a short one", async () => {
    const file = path.join(dir, 'given');
    await writeFile(file, '  0123456789abcdef0123456789abcdef-extra\n');
    expect((await loadOrCreateSecret(file)).toString()).toBe('0123456789abcdef0123456789abcdef-extra');
    const short = path.join(dir, 'short');
    await writeFile(short, 'too short\n');
    await expect(loadOrCreateSecret(short)).rejects.toThrow(short);
  });
});

describe('openObjectForHttp', () => {
  let root: string;
  let storage: FileStorage;
  const clip = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 256));
  let clipTag: string;
  beforeAll(async () => {
    root = await tempDir();
    storage = new FileStorage(root);
    clipTag = `"${(await storage.put('media/clip.mp4', clip, { contentType: 'video/mp4' })).etag}"`;
    await storage.put('media/page.html', Buffer.from('<script>alert(1)</script>'), { contentType: 'text/html' });
    await storage.put('media/empty.mp4', Buffer.alloc(0), { contentType: 'video/mp4' });
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  const clipHeaders = (length: number) => ({
    'Accept-Ranges': 'bytes',
    'Content-Length': String(length),
    'Content-Type': 'video/mp4',
    ETag: clipTag,
    'Content-Disposition': 'inline; filename="clip.mp4"',
    'X-Content-Type-Options': 'nosniff',
  });

  it('answers a GET with 200, the whole body and exact headers', async () => {
    const res = await openObjectForHttp(storage, 'media/clip.mp4', { method: 'GET' });
    expect(res.status).toBe(200);
    expect(res.headers).toEqual(clipHeaders(1000));
    expect((await readAll(res.body!)).equals(clip)).toBe(true);
  });

  it('answers a HEAD with the same headers, no body, and ignores its Range', async () => {
    for (const range of [undefined, 'bytes=0-9', 'bytes=5000-']) {
      const res = await openObjectForHttp(storage, 'media/clip.mp4', { method: 'HEAD', range });
      expect(res).toEqual({ status: 200, headers: clipHeaders(1000) });
    }
  });

  it('answers a Range with 206, the slice and Content-Range', async () => {
    const res = await openObjectForHttp(storage, 'media/clip.mp4', { method: 'GET', range: 'bytes=100-199' });
    expect(res.status).toBe(206);
    expect(res.headers).toEqual({ ...clipHeaders(100), 'Content-Range': 'bytes 100-199/1000' });
    expect((await readAll(res.body!)).equals(clip.subarray(100, 200))).toBe(true);
  });

  it('sends the first of several ranges, merging overlapping ones first', async () => {
    const several = await openObjectForHttp(storage, 'media/clip.mp4', { method: 'GET', range: 'bytes=500-509, 0-9' });
    expect([several.status, several.headers['Content-Range']]).toEqual([206, 'bytes 500-509/1000']);
    expect((await readAll(several.body!)).equals(clip.subarray(500, 510))).toBe(true);
    const overlapping = await openObjectForHttp(storage, 'media/clip.mp4', { method: 'GET', range: 'bytes=0-9,5-19,20-29' });
    expect(overlapping.headers['Content-Range']).toBe('bytes 0-29/1000');
    overlapping.body!.destroy();
    const partlyPast = await openObjectForHttp(storage, 'media/clip.mp4', { method: 'GET', range: 'bytes=2000-3000,10-19' });
    expect(partlyPast.headers['Content-Range']).toBe('bytes 10-19/1000');
    partlyPast.body!.destroy();
  });

  it('answers an unsatisfiable Range with 416 and bytes */size', async () => {
    for (const [key, range, size] of [
      ['media/clip.mp4', 'bytes=1000-', 1000],
      ['media/clip.mp4', 'bytes=1000-2000,3000-4000', 1000],
      // RFC 9110 §14.2: invalid ranges (last before first) get 416 too, not the whole body.
      ['media/clip.mp4', 'bytes=9-3', 1000],
      ['media/empty.mp4', 'bytes=0-', 0],
    ] as const) {
      const res = await openObjectForHttp(storage, key, { method: 'GET', range });
      expect(res).toEqual({ status: 416, headers: { 'Accept-Ranges': 'bytes', 'Content-Range': `bytes */${size}` } });
    }
  });

  it('ignores a malformed or non-byte Range and sends everything', async () => {
    for (const range of ['bytes=abc', 'bytes 0-5', 'items=0-5', '']) {
      const res = await openObjectForHttp(storage, 'media/clip.mp4', { method: 'GET', range });
      expect([range, res.status, res.headers['Content-Length']]).toEqual([range, 200, '1000']);
      res.body!.destroy();
    }
  });

  it('answers a matching If-None-Match with 304 and the ETag, before any Range', async () => {
    for (const ifNoneMatch of [clipTag, `"other", ${clipTag}`, `W/${clipTag}`, '*']) {
      for (const method of ['GET', 'HEAD'] as const) {
        const res = await openObjectForHttp(storage, 'media/clip.mp4', { method, ifNoneMatch, range: 'bytes=0-9' });
        expect(res).toEqual({ status: 304, headers: { ETag: clipTag } });
      }
    }
    const stale = await openObjectForHttp(storage, 'media/clip.mp4', { method: 'GET', ifNoneMatch: '"stale"' });
    expect(stale.status).toBe(200);
    stale.body!.destroy();
  });

  it('changes the ETag when the object is replaced', async () => {
    await storage.put('media/changing.mp4', Buffer.alloc(10, 1), { contentType: 'video/mp4' });
    const before = (await openObjectForHttp(storage, 'media/changing.mp4', { method: 'HEAD' })).headers.ETag;
    await storage.put('media/changing.mp4', Buffer.alloc(10, 2), { contentType: 'video/mp4' });
    const after = await openObjectForHttp(storage, 'media/changing.mp4', { method: 'GET', ifNoneMatch: before });
    expect(after.status).toBe(200);
    expect(after.headers.ETag).not.toBe(before);
    expect((await readAll(after.body!)).equals(Buffer.alloc(10, 2))).toBe(true);
  });

  it('answers 404 with no headers for a missing key or one no storage could hold', async () => {
    for (const key of ['media/missing.mp4', 'media', '../etc/passwd', 'media/../media/clip.mp4']) {
      for (const method of ['GET', 'HEAD'] as const) {
        expect(await openObjectForHttp(storage, key, { method })).toEqual({ status: 404, headers: {} });
      }
    }
  });

  it('offers anything that could run script as a download only', async () => {
    const res = await openObjectForHttp(storage, 'media/page.html', { method: 'HEAD' });
    expect(res.headers['Content-Disposition']).toBe('attachment; filename="page.html"');
    expect(res.headers['Content-Type']).toBe('text/html');
  });

  it('answers 416 for the object as it is now when it shrank after stat', async () => {
    let stats = 0;
    const shrinking: ObjectStorage = {
      kind: 'files',
      put: (k, b, o) => storage.put(k, b, o),
      get: (k, r) => storage.get(k, r),
      delete: (k) => storage.delete(k),
      list: (p) => storage.list(p),
      // The first stat still sees the object before it was replaced by a smaller one.
      stat: async (k) => {
        const now = await storage.stat(k);
        return ++stats === 1 && now ? { ...now, bytes: 5000 } : now;
      },
    };
    const res = await openObjectForHttp(shrinking, 'media/clip.mp4', { method: 'GET', range: 'bytes=2000-' });
    expect(res).toEqual({ status: 416, headers: { 'Accept-Ranges': 'bytes', 'Content-Range': 'bytes */1000' } });
  });

  it.each([
    ['results/t/0.mp4', 'video/mp4', 'inline; filename="0.mp4"'],
    ['u/a.png', 'image/png', 'inline; filename="a.png"'],
    ['u/a.webp', 'IMAGE/WEBP; q=1', 'inline; filename="a.webp"'],
    ['u/a.mp3', 'audio/mpeg', 'inline; filename="a.mp3"'],
    ['u/a.svg', 'image/svg+xml', 'attachment; filename="a.svg"'],
    ['u/a.json', 'application/json', 'attachment; filename="a.json"'],
    ["u/my clip (1)'s*.mp4", 'video/mp4', "inline; filename*=UTF-8''my%20clip%20%281%29%27s%2A.mp4"],
    ['u/vidéo 🎬.mp4', 'video/mp4', "inline; filename*=UTF-8''vid%C3%A9o%20%F0%9F%8E%AC.mp4"],
    ['u/a"b.mp4', 'video/mp4', "inline; filename*=UTF-8''a%22b.mp4"],
  ])('Content-Disposition for %s (%s) is %s', (key, contentType, expected) => {
    expect(contentDispositionFor(key, contentType)).toBe(expected);
  });
});
