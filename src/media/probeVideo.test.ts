import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ffmpegPath, ffprobePath, fontPath, MediaToolError, runFfmpeg } from './ffmpeg.ts';
import { MediaProbeError, parseProbe, probeMedia } from './probeVideo.ts';
import { AddressGuard, BlockedUrlError, createSafeFetch } from './safeFetch.ts';

let dir: string;
let server: http.Server;
let base: string;
const hanging = new Set<http.ServerResponse>();
const file = (name: string): string => path.join(dir, name);

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelay-probe-test-'));
  await runFfmpeg([
    '-f', 'lavfi', '-i', 'testsrc=s=320x240:r=25:d=2',
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100:duration=2',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-movflags', '+faststart', file('av.mp4'),
  ]);
  await runFfmpeg(['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=22050:duration=1.5', '-c:a', 'aac', file('tone.m4a')]);
  await runFfmpeg(['-i', file('av.mp4'), '-c', 'copy', '-metadata:s:v', 'rotate=90', file('rotated.mp4')]);
  fs.copyFileSync(file('av.mp4'), file('concat:odd name.mp4'));
  fs.writeFileSync(file('notes.bin'), 'this is not a video\n'.repeat(100));

  server = http.createServer((req, res) => {
    if (req.url === '/hang') return void hanging.add(res);
    const name = decodeURIComponent(req.url!.slice(1));
    if (!fs.existsSync(file(name))) return void res.writeHead(404).end('missing');
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': fs.statSync(file(name)).size });
    fs.createReadStream(file(name)).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const res of hanging) res.destroy();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('probeMedia on local files', () => {
  it('reads container, length, size and both streams', async () => {
    const probe = await probeMedia(file('av.mp4'));
    expect(probe.container).toContain('mp4');
    expect(probe.durationSeconds).toBeCloseTo(2, 1);
    expect(probe.bytes).toBe(fs.statSync(file('av.mp4')).size);
    expect(probe.video).toEqual({ codec: 'h264', width: 320, height: 240, fps: 25, frames: 50, pixelFormat: 'yuv420p' });
    expect(probe.audio).toEqual({ codec: 'aac', sampleRate: 44100, channels: 1 });
  });

  it('reads an audio-only file', async () => {
    const probe = await probeMedia(file('tone.m4a'));
    expect(probe.video).toBeUndefined();
    expect(probe.audio).toMatchObject({ codec: 'aac', sampleRate: 22050 });
    expect(probe.durationSeconds).toBeGreaterThan(1.4);
    expect(probe.durationSeconds).toBeLessThan(1.6);
  });

  it('gives the display size of a rotated video', async () => {
    const probe = await probeMedia(file('rotated.mp4'));
    expect(probe.video).toMatchObject({ width: 240, height: 320, rotation: 90 });
  });

  it('takes a name with a colon as a file, not an ffmpeg protocol', async () => {
    const probe = await probeMedia(file('concat:odd name.mp4'));
    expect(probe.video?.width).toBe(320);
  });

  it('refuses a file that is not media, and a missing file, as unreadable', async () => {
    await expect(probeMedia(file('notes.bin'))).rejects.toMatchObject({ name: 'MediaProbeError', reason: 'unreadable' });
    await expect(probeMedia(file('absent.mp4'))).rejects.toMatchObject({ reason: 'unreadable', message: expect.stringMatching(/absent\.mp4/) });
  });
});

describe('probeMedia on URLs', () => {
  it('lets ffprobe read an http URL directly', async () => {
    const probe = await probeMedia(`${base}/av.mp4`);
    expect(probe.video).toMatchObject({ codec: 'h264', width: 320, height: 240 });
    expect(probe.audio?.codec).toBe('aac');
  });

  it('reports an HTTP error as unreadable, without the query string', async () => {
    const err = await probeMedia(`${base}/gone.mp4?signature=secret`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MediaProbeError);
    expect((err as MediaProbeError).reason).toBe('unreadable');
    expect((err as Error).message).not.toContain('secret');
  });

  it('times out on a server that never answers', async () => {
    const started = Date.now();
    await expect(probeMedia(`${base}/hang`, { timeoutMs: 400 })).rejects.toMatchObject({ reason: 'timeout' });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  describe('through the SSRF-safe fetch', () => {
    const local = createSafeFetch(new AddressGuard({ allow: ['127.0.0.1'] }));
    const strict = createSafeFetch(new AddressGuard({ allow: [] }));
    afterAll(async () => {
      await local.close();
      await strict.close();
    });

    it('downloads, probes and counts the bytes', async () => {
      const probe = await probeMedia(`${base}/av.mp4`, { fetch: local.fetch });
      expect(probe.bytes).toBe(fs.statSync(file('av.mp4')).size);
      expect(probe.video).toMatchObject({ width: 320, height: 240, frames: 50 });
    });

    it('applies the guard that ffprobe alone would bypass', async () => {
      await expect(probeMedia(`${base}/av.mp4`, { fetch: strict.fetch })).rejects.toBeInstanceOf(BlockedUrlError);
    });

    it('refuses a download over maxBytes', async () => {
      await expect(probeMedia(`${base}/av.mp4`, { fetch: local.fetch, maxBytes: 1000 })).rejects.toMatchObject({ reason: 'too_large' });
    });

    it('maps HTTP errors and timeouts', async () => {
      await expect(probeMedia(`${base}/gone.mp4`, { fetch: local.fetch })).rejects.toMatchObject({ reason: 'unreadable', message: expect.stringMatching(/404/) });
      await expect(probeMedia(`${base}/hang`, { fetch: local.fetch, timeoutMs: 300 })).rejects.toMatchObject({ reason: 'timeout' });
    });

    it('leaves no temp files behind', async () => {
      const before = fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('reelay-probe-')).length;
      await probeMedia(`${base}/av.mp4`, { fetch: local.fetch });
      await probeMedia(`${base}/av.mp4`, { fetch: local.fetch, maxBytes: 1000 }).catch(() => {});
      expect(fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('reelay-probe-')).length).toBe(before);
    });
  });

  it('passes the caller’s abort through', async () => {
    const controller = new AbortController();
    const probing = probeMedia(`${base}/hang`, { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('caller gave up')), 100);
    await expect(probing).rejects.toThrow('caller gave up');
  });
});

describe('parseProbe', () => {
  const video = { codec_type: 'video', codec_name: 'h264', width: 1920, height: 1080 };

  it('reads the older "rotate" tag as well as the display matrix', () => {
    expect(parseProbe({ format: { duration: '3' }, streams: [{ ...video, tags: { rotate: '270' } }] }).video).toMatchObject({ width: 1080, height: 1920, rotation: 270 });
    expect(parseProbe({ format: { duration: '3' }, streams: [{ ...video, side_data_list: [{ rotation: -90 }] }] }).video).toMatchObject({ width: 1080, height: 1920, rotation: 270 });
    expect(parseProbe({ format: { duration: '3' }, streams: [{ ...video, side_data_list: [{ rotation: 180 }] }] }).video).toMatchObject({ width: 1920, height: 1080, rotation: 180 });
  });

  it('ignores cover art and takes the frame rate from r_frame_rate when the average is unknown', () => {
    const art = { codec_type: 'video', codec_name: 'mjpeg', width: 600, height: 600, disposition: { attached_pic: 1 } };
    const probe = parseProbe({ format: { duration: '10.5' }, streams: [art, { codec_type: 'audio', codec_name: 'mp3', sample_rate: '44100', channels: 2 }] });
    expect(probe.video).toBeUndefined();
    expect(probe.audio).toEqual({ codec: 'mp3', sampleRate: 44100, channels: 2 });
    expect(parseProbe({ format: { duration: '1' }, streams: [{ ...video, avg_frame_rate: '0/0', r_frame_rate: '30000/1001' }] }).video?.fps).toBeCloseTo(29.97, 2);
  });

  it('falls back to the longest stream duration, and refuses media without one', () => {
    expect(parseProbe({ format: {}, streams: [{ ...video, duration: '4.0' }, { codec_type: 'audio', duration: '4.2' }] }).durationSeconds).toBe(4.2);
    expect(() => parseProbe({ format: {}, streams: [video] })).toThrow(MediaProbeError);
    expect(() => parseProbe({ format: { duration: '2' }, streams: [{ codec_type: 'subtitle' }] })).toThrow(MediaProbeError);
  });
});

// ffmpeg.ts's own behaviour, tested here beside its main user.
describe('ffmpeg helpers', () => {
  it('finds usable binaries and the font', async () => {
    for (const binary of [ffmpegPath(), ffprobePath(), fontPath()]) expect(fs.existsSync(binary)).toBe(true);
    expect(path.basename(fontPath())).toBe('DejaVuSans.ttf');
  });

  it('prefers REELAY_FFMPEG / REELAY_FFPROBE', async () => {
    await withEnv({ REELAY_FFMPEG: '/opt/custom/ffmpeg', REELAY_FFPROBE: '/opt/custom/ffprobe' }, async () => {
      expect([ffmpegPath(), ffprobePath()]).toEqual(['/opt/custom/ffmpeg', '/opt/custom/ffprobe']);
    });
  });

  it('rejects with the end of stderr on failure', async () => {
    const err = await runFfmpeg(['-i', file('absent.mp4'), '-f', 'null', '-']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MediaToolError);
    expect((err as MediaToolError).reason).toBe('exit');
    expect((err as Error).message).toMatch(/absent\.mp4.*No such file/s);
  });

  it('kills the child on timeout and on abort', async () => {
    const endless = ['-f', 'lavfi', '-i', 'testsrc=s=320x240:r=25', '-f', 'null', '-'];
    let started = Date.now();
    await expect(runFfmpeg(endless, { timeoutMs: 300 })).rejects.toMatchObject({ reason: 'timeout' });
    expect(Date.now() - started).toBeLessThan(3_000);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('stop')), 300);
    started = Date.now();
    await expect(runFfmpeg(endless, { signal: controller.signal })).rejects.toThrow('stop');
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('reports a binary that cannot start', async () => {
    await withEnv({ REELAY_FFMPEG: file('no-such-ffmpeg') }, async () => {
      await expect(runFfmpeg(['-version'])).rejects.toMatchObject({ reason: 'spawn' });
    });
  });
});

async function withEnv(vars: Record<string, string>, body: () => Promise<void>): Promise<void> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    await body();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}
