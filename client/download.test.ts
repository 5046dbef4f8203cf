import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConnectionError, NotFoundError, Reelay, downloadVideo, type DownloadProgress } from './index.ts';
import { FakeReelay, fakeMp4 } from './testing/fakeReelay.ts';

const SIZE = 512 * 1024;
let server: FakeReelay;
let client: Reelay;
let dir: string;

beforeEach(async () => {
  server = await new FakeReelay({ videoBytes: SIZE, progressSteps: [] }).start();
  client = new Reelay({ baseUrl: server.url, apiKey: server.apiKey });
  dir = await mkdtemp(join(tmpdir(), 'reelay-dl-'));
});
afterEach(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

async function completedVideoUrl(): Promise<string> {
  const task = await client.videos.createAndWait({ model: 'wan2.5-preview', prompt: 'waves' }, { pollIntervalMs: 1 });
  return task.result!.videos[0]!.url[0]!;
}

describe('downloadVideo', () => {
  it('streams into a temp file and renames it into place only when complete', async () => {
    const url = await completedVideoUrl();
    const release = server.holdFiles();
    const target = join(dir, 'out.mp4');
    const updates: DownloadProgress[] = [];
    let halfway!: () => void;
    const reachedHalf = new Promise<void>((resolve) => (halfway = resolve));
    const done = client.downloadVideo(url, target, {
      onProgress: (p) => {
        updates.push(p);
        if (p.received >= SIZE / 2) halfway();
      },
    });

    // The server has sent half and is waiting: the bytes must already be on disk, under a temp name.
    await reachedHalf;
    const during = await readdir(dir);
    expect(during).not.toContain('out.mp4');
    const part = during.find((n) => n.startsWith('.out.mp4.') && n.endsWith('.part'));
    expect(part).toBeDefined();
    // The write stream flushes asynchronously; wait for the first bytes to land.
    await vi.waitFor(async () => expect((await stat(join(dir, part!))).size).toBeGreaterThan(0));

    release();
    expect(await done).toEqual({ path: target, bytes: SIZE });
    // Buffer.equals: a deep toEqual over half a megabyte takes seconds.
    expect((await readFile(target)).equals(fakeMp4('task_0001#1', SIZE))).toBe(true);
    expect(await readdir(dir)).toEqual(['out.mp4']);
    expect(updates.at(-1)).toEqual({ received: SIZE, total: SIZE });
    expect(updates.length).toBeGreaterThan(1);
  });

  it('never sends the API key to the video URL', async () => {
    const url = await completedVideoUrl();
    await client.downloadVideo(url, join(dir, 'a', 'b.mp4'));
    const fileReq = server.requests.find((r) => r.path.startsWith('/files/'));
    expect(fileReq!.headers.authorization).toBeUndefined();
    expect((await stat(join(dir, 'a', 'b.mp4'))).size).toBe(SIZE);
  });

  it('maps an HTTP error to its class and leaves no file behind', async () => {
    const err = await downloadVideo(`${server.url}/files/missing.mp4`, join(dir, 'x.mp4')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses a body shorter than its Content-Length and removes the temp file', async () => {
    const short = async () => new Response(new Uint8Array(10), { headers: { 'content-length': '100' } });
    const err = await downloadVideo('http://127.0.0.1:1/v.mp4', join(dir, 'x.mp4'), { fetch: short }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as Error).message).toContain('got 10 of 100 bytes');
    expect(await readdir(dir)).toEqual([]);
  });
});
