/**
 * Shared pieces of the end-to-end API suites (test/api/*.test.ts): a strict submit that checks the APIMart
 * answer shape, error-body checks against the contract (section 3), real test images made with ffmpeg, and
 * downloading + probing result videos.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { runFfmpeg } from '../../src/media/ffmpeg.ts';
import { probeMedia, type MediaProbe } from '../../src/media/probeVideo.ts';
import type { TestGateway } from '../helpers/gateway.ts';

/** task_ + a 26-character ULID (Crockford base32: no I, L, O, U). */
export const TASK_ID = /^task_[0-9A-HJKMNP-TV-Z]{26}$/;

/** Codes a seed document names: `type` carries the same name (contract §3); other 400s are invalid_request_error. */
const SEED_NAMED = new Set([
  'invalid_duration',
  'invalid_resolution',
  'unsupported_image_count',
  'mixed_media_not_allowed',
  'audio_setting_only_for_edit',
  'invalid_request_error',
  'authentication_error',
  'payment_required',
  'rate_limit_error',
]);

export interface Reply {
  status: number;
  body: any;
  headers: Headers;
}

/** Submits `body` and checks the answer is exactly APIMart's `{"code":200,"data":[{status,task_id}]}`. */
export async function submit(t: TestGateway, key: string, body: unknown, headers: Record<string, string> = {}): Promise<string> {
  const r = await t.call(key, 'POST', '/v1/videos/generations', body, headers);
  if (r.status !== 200) throw new Error(`submit refused: ${r.status} ${JSON.stringify(r.body)}`);
  expect(r.body).toEqual({ code: 200, data: [{ status: 'submitted', task_id: expect.stringMatching(TASK_ID) }] });
  return r.body.data[0].task_id as string;
}

/**
 * Checks an error reply against the contract: status, `{error: {code, type, message, param}}` and nothing
 * else, `type` = code for seed-named codes, else invalid_request_error for 400s.
 */
export function expectError(r: Reply, status: number, code: string, param: string | null | undefined = undefined, type?: string): void {
  expect({ status: r.status, code: r.body?.error?.code }).toEqual({ status, code });
  expect(Object.keys(r.body).sort()).toEqual(['error']);
  expect(Object.keys(r.body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
  const expectedType = type ?? (SEED_NAMED.has(code) ? code : status === 400 || status === 413 ? 'invalid_request_error' : undefined);
  if (expectedType !== undefined) expect(r.body.error.type).toBe(expectedType);
  expect(typeof r.body.error.message).toBe('string');
  expect(r.body.error.message.length).toBeGreaterThan(10);
  if (param !== undefined) expect(r.body.error.param).toBe(param);
}

export async function balanceOf(t: TestGateway, key: string): Promise<{ remain: number; used: number; held: number }> {
  const r = await t.call(key, 'GET', '/v1/balance');
  expect(r.status).toBe(200);
  return { remain: r.body.remain_balance, used: r.body.used_balance, held: r.body.held_balance };
}

export async function taskIds(t: TestGateway, key: string): Promise<string[]> {
  const r = await t.call(key, 'GET', '/v1/tasks?limit=100');
  expect(r.status).toBe(200);
  return r.body.data.map((x: { id: string }) => x.id);
}

export type ImageKind = 'png' | 'jpeg' | 'webp' | 'gif' | 'bmp';
const EXT: Record<ImageKind, string> = { png: 'png', jpeg: 'jpg', webp: 'webp', gif: 'gif', bmp: 'bmp' };
const imageCache = new Map<string, Promise<Buffer>>();

/** A real image of this format and size (a test pattern, so it is a picture and not a flat fill). */
export function makeImage(kind: ImageKind, width: number, height: number): Promise<Buffer> {
  const id = `${kind}-${width}x${height}`;
  let p = imageCache.get(id);
  if (!p) {
    p = (async () => {
      const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'reelay-img-'));
      const file = path.join(dir, `image.${EXT[kind]}`);
      try {
        await runFfmpeg(['-f', 'lavfi', '-i', `testsrc2=s=${width}x${height}:r=1`, '-frames:v', '1', '-pix_fmt', kind === 'jpeg' ? 'yuvj420p' : kind === 'gif' ? 'pal8' : kind === 'bmp' ? 'bgr24' : kind === 'webp' ? 'yuv420p' : 'rgb24', '-y', file]);
        return await fs.promises.readFile(file);
      } finally {
        await fs.promises.rm(dir, { recursive: true, force: true });
      }
    })();
    imageCache.set(id, p);
  }
  return p;
}

export function dataUri(bytes: Buffer, mime: string): string {
  return `data:${mime};base64,${bytes.toString('base64')}`;
}

/** Downloads a URL into a temp file (removed by `cleanup`), checking it is served as an MP4. */
export async function downloadVideo(url: string, dir: string): Promise<{ file: string; bytes: number }> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('video/mp4');
  const buf = Buffer.from(await res.arrayBuffer());
  expect(Number(res.headers.get('content-length'))).toBe(buf.length);
  const file = path.join(dir, `${Math.random().toString(36).slice(2)}.mp4`);
  await fs.promises.writeFile(file, buf);
  return { file, bytes: buf.length };
}

export interface ExpectedVideo {
  width: number;
  height: number;
  seconds: number;
  audio: boolean;
}

/** What the real model would give: exact size, 24 fps, H.264, seconds × 24 frames, audio as the model makes it. */
export function expectVideo(p: MediaProbe, e: ExpectedVideo): void {
  expect(p.container).toContain('mp4');
  expect(p.video).toBeDefined();
  const v = p.video!;
  expect({ codec: v.codec, width: v.width, height: v.height, fps: v.fps, frames: v.frames, audio: p.audio !== undefined }).toEqual({
    codec: 'h264',
    width: e.width,
    height: e.height,
    fps: 24,
    frames: e.seconds * 24,
    audio: e.audio,
  });
  expect(Math.abs(p.durationSeconds - e.seconds)).toBeLessThanOrEqual(1 / 24);
}

export async function probeFile(file: string): Promise<MediaProbe> {
  return probeMedia(file);
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export { sleep } from '../helpers/wait.ts';
