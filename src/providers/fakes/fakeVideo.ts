/**
 * A small real MP4 that fake upstreams serve as their result (rendered once per process with ffmpeg),
 * and a helper to serve arbitrary-size payloads for the re-hosting benchmark.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runFfmpeg } from '../../media/ffmpeg.ts';

let cached: Promise<Buffer> | null = null;

export function fakeVideoBytes(): Promise<Buffer> {
  cached ??= (async () => {
    const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'reelay-fake-video-'));
    const file = path.join(dir, 'fake.mp4');
    await runFfmpeg(['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'color=c=0x336699:s=320x180:r=24:d=1', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', file]);
    const bytes = await fs.promises.readFile(file);
    await fs.promises.rm(dir, { recursive: true, force: true });
    return bytes;
  })();
  return cached;
}
