/**
 * What a video or audio file is, as ffprobe reads it: container, length, size, and its first video and audio
 * streams. Reads local paths and http(s) URLs.
 *
 * A URL is read by ffprobe itself (range requests, so only the headers are fetched) unless `fetch` is given:
 * ffprobe resolves and connects on its own, past the gateway's SSRF guard, so URLs from clients should go
 * through the gateway's SafeFetch, which downloads the file (up to `maxBytes`) to a temp file first.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform, type Readable } from 'node:stream';
import { MediaToolError, runFfprobe } from './ffmpeg.ts';
import type { SafeFetch } from './safeFetch.ts';

export interface MediaProbe {
  /** ffprobe's format names, e.g. ['mov', 'mp4', 'm4a', '3gp', '3g2', 'mj2']. */
  container: string[];
  durationSeconds: number;
  bytes?: number;
  video?: {
    codec: string;
    /** Display size: swapped from the coded size when the video is rotated by 90° or 270°. */
    width: number;
    height: number;
    fps: number;
    frames?: number;
    pixelFormat?: string;
    /** The rotation the file asks players to apply, degrees 0..359 as ffprobe reports it, when not 0. */
    rotation?: number;
  };
  audio?: { codec: string; sampleRate: number; channels: number };
}

export interface ProbeOptions {
  /** Whole probe, including any download, ms (default 30 s). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Fetch URLs through this (the gateway's SSRF-safe fetch) instead of letting ffprobe connect. */
  fetch?: SafeFetch;
  /** Largest download accepted with `fetch` (default 200 MB). */
  maxBytes?: number;
}

export class MediaProbeError extends Error {
  constructor(
    message: string,
    readonly reason: 'unreadable' | 'timeout' | 'too_large',
  ) {
    super(message);
    this.name = 'MediaProbeError';
  }
}

const isUrl = (s: string): boolean => /^https?:\/\//i.test(s);

export async function probeMedia(pathOrUrl: string, opts: ProbeOptions = {}): Promise<MediaProbe> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  try {
    if (isUrl(pathOrUrl) && opts.fetch) return await probeDownloaded(pathOrUrl, opts.fetch, opts.maxBytes ?? 200 * 1024 * 1024, signal);
    return await probeWithFfprobe(pathOrUrl, signal);
  } catch (e) {
    if (timeout.aborted && !opts.signal?.aborted) throw new MediaProbeError(`probing ${describe(pathOrUrl)} timed out after ${timeoutMs} ms`, 'timeout');
    if (e instanceof MediaToolError) {
      const detail = (e.stderrTail || e.message).replaceAll(pathOrUrl, describe(pathOrUrl));
      throw new MediaProbeError(`cannot read ${describe(pathOrUrl)} as media: ${detail}`, 'unreadable');
    }
    throw e;
  }
}

/** A URL without its query, which may hold a signature. */
function describe(pathOrUrl: string): string {
  return isUrl(pathOrUrl) ? pathOrUrl.replace(/[?#].*$/, '') : pathOrUrl;
}

async function probeWithFfprobe(pathOrUrl: string, signal: AbortSignal): Promise<MediaProbe> {
  // `file:` stops a local name such as "concat:a|b" being taken for an ffmpeg protocol; the whitelist stops a
  // remote playlist from pulling in other protocols or local files.
  const input = isUrl(pathOrUrl) ? pathOrUrl : `file:${path.resolve(pathOrUrl)}`;
  const network = isUrl(pathOrUrl) ? ['-protocol_whitelist', 'http,https,tcp,tls', '-rw_timeout', '15000000'] : ['-protocol_whitelist', 'file'];
  const json = await runFfprobe(['-print_format', 'json', '-show_format', '-show_streams', ...network, '-i', input], { signal });
  return parseProbe(JSON.parse(json) as FfprobeJson);
}

async function probeDownloaded(url: string, fetch: SafeFetch, maxBytes: number, signal: AbortSignal): Promise<MediaProbe> {
  const res = await fetch(url, { signal });
  if (res.status !== 200) {
    discard(res.body);
    throw new MediaProbeError(`cannot read ${describe(url)}: HTTP ${res.status}`, 'unreadable');
  }
  const tooLarge = (): MediaProbeError => new MediaProbeError(`${describe(url)} is larger than ${maxBytes} bytes`, 'too_large');
  if (Number(res.headers['content-length']) > maxBytes) {
    discard(res.body);
    throw tooLarge();
  }
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'reelay-probe-'));
  try {
    const file = path.join(dir, randomUUID());
    let bytes = 0;
    const limit = new Transform({
      transform(chunk: Buffer, _enc, done) {
        bytes += chunk.length;
        done(bytes > maxBytes ? tooLarge() : null, chunk);
      },
    });
    await pipeline(res.body, limit, createWriteStream(file), { signal });
    return { ...(await probeWithFfprobe(file, signal)), bytes };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** Drops a response body unread (destroying it makes undici emit an error nobody needs). */
function discard(body: Readable): void {
  body.on('error', () => {});
  body.destroy();
}

interface FfprobeStream {
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  pix_fmt?: string;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  nb_frames?: string;
  duration?: string;
  sample_rate?: string;
  channels?: number;
  disposition?: { attached_pic?: number };
  tags?: { rotate?: string };
  side_data_list?: { rotation?: number }[];
}

interface FfprobeJson {
  format?: { format_name?: string; duration?: string; size?: string };
  streams?: FfprobeStream[];
}

function rate(text: string | undefined): number {
  const [num, den] = (text ?? '').split('/').map(Number);
  return num > 0 && den > 0 ? num / den : 0;
}

const finite = (text: string | undefined): number | undefined => {
  const n = Number(text);
  return text !== undefined && text !== '' && Number.isFinite(n) ? n : undefined;
};

export function parseProbe(json: FfprobeJson): MediaProbe {
  const streams = json.streams ?? [];
  // Cover art in an audio file shows up as a one-frame video stream.
  const v = streams.find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic);
  const a = streams.find((s) => s.codec_type === 'audio');
  const streamDurations = streams.map((s) => finite(s.duration)).filter((d) => d !== undefined);
  const duration = finite(json.format?.duration) ?? (streamDurations.length ? Math.max(...streamDurations) : undefined);
  if (duration === undefined || duration < 0 || (!v && !a)) throw new MediaProbeError('no audio or video stream with a duration', 'unreadable');

  const probe: MediaProbe = { container: (json.format?.format_name ?? '').split(',').filter(Boolean), durationSeconds: duration };
  const bytes = finite(json.format?.size);
  if (bytes !== undefined) probe.bytes = bytes;
  if (v) {
    // Newer ffprobe reports the display matrix's angle; older ones a "rotate" tag. A file written with
    // rotate=90 reads as 90 either way.
    const matrix = v.side_data_list?.find((d) => d.rotation !== undefined)?.rotation;
    const rotation = normalRotation(matrix ?? finite(v.tags?.rotate) ?? 0);
    const sideways = rotation === 90 || rotation === 270;
    const [w, h] = [v.width ?? 0, v.height ?? 0];
    probe.video = {
      codec: v.codec_name ?? 'unknown',
      width: sideways ? h : w,
      height: sideways ? w : h,
      fps: rate(v.avg_frame_rate) || rate(v.r_frame_rate),
    };
    const frames = finite(v.nb_frames);
    if (frames !== undefined) probe.video.frames = frames;
    if (v.pix_fmt) probe.video.pixelFormat = v.pix_fmt;
    if (rotation) probe.video.rotation = rotation;
  }
  if (a) probe.audio = { codec: a.codec_name ?? 'unknown', sampleRate: finite(a.sample_rate) ?? 0, channels: a.channels ?? 0 };
  return probe;
}

/** Whole degrees in 0..359. */
function normalRotation(deg: number): number {
  return ((Math.round(deg) % 360) + 360) % 360;
}
