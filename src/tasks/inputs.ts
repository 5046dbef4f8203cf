/**
 * Before a task goes upstream: find its media inputs, fetch the ones given by URL (through the SSRF guard),
 * check them against the model's rules (image format/size/sides/aspect, EDIT source video, custom audio)
 * and learn the facts the output depends on (the first image's or source video's size, the source's length).
 *
 * Inputs that cannot be reached are passed on unchecked: the upstream fetches them itself and reports
 * its own error, and the simulator uses the model's default aspect. Inputs that can be read and break a
 * rule fail the task (refunded) before anything is sent upstream.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { ApiError } from '../errors.ts';
import type { ImageRules, MediaUrlField, ModelSpec } from '../models/spec.ts';
import type { InputFacts } from '../models/output.ts';
import type { MediaInput } from '../providers/types.ts';
import type { ObjectStorage } from '../media/storage/types.ts';
import type { SafeFetch } from '../media/safeFetch.ts';
import type { UrlSigner } from '../media/signedUrls.ts';
import type { Logger } from '../runtime/logger.ts';
import { checkImage, probeImageStream } from '../media/images.ts';
import { probeMedia } from '../media/probeVideo.ts';
import type { TaskRecord } from './task.ts';

/** A task input broke a model rule: the task fails with this code and message. */
export class InputRejected extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface Deps {
  storage: ObjectStorage;
  fetch: SafeFetch;
  signer: UrlSigner;
  logger: Logger;
}

export class InputInspector {
  constructor(private readonly deps: Deps) {}

  /** The task's media inputs as providers receive them (no I/O). */
  listInputs(task: TaskRecord, spec: ModelSpec): MediaInput[] {
    const inputs: MediaInput[] = [];
    for (const [field, def] of Object.entries(spec.fields)) {
      const value = task.params[field];
      if (value === undefined) continue;
      if (def.type === 'image' || def.type === 'images') {
        const urls = Array.isArray(value) ? (value as string[]) : [value as string];
        urls.forEach((url, i) => {
          const index = def.type === 'images' ? i : null;
          const stored = task.inputs.find((s) => s.field === field && s.index === index);
          inputs.push({ field, index, url, storageKey: stored?.key ?? this.deps.signer.keyOf(url, Math.floor(Date.now() / 1000)), contentType: stored?.contentType, bytes: stored?.bytes });
        });
      } else if (def.type === 'video_url' || def.type === 'audio_url') {
        inputs.push({ field, index: null, url: value as string });
      }
    }
    return inputs;
  }

  /**
   * Reads every input that can be read, checks it against the model's rules (throwing InputRejected), and
   * returns the facts the output depends on: the first image's size, or in EDIT the source video's size
   * and length.
   */
  async inspect(task: TaskRecord, spec: ModelSpec): Promise<InputFacts> {
    const facts: InputFacts = {};
    for (const input of this.listInputs(task, spec)) {
      const def = spec.fields[input.field];
      const param = input.index === null ? input.field : `${input.field}[${input.index}]`;
      if (def.type === 'image' || def.type === 'images') {
        const size = await this.inspectImage(input.url, input.storageKey, def.rules, param, spec.id);
        if (size && facts.width === undefined) Object.assign(facts, size);
      } else if (def.type === 'video_url' || def.type === 'audio_url') {
        const media = await this.inspectMedia(input.url, def, input.field, spec.id);
        if (def.type === 'video_url' && media) {
          // In EDIT the source sets the output's aspect and length.
          facts.width = media.width;
          facts.height = media.height;
          facts.sourceSeconds = media.seconds;
        }
      }
    }
    return facts;
  }

  private async inspectImage(
    url: string,
    key: string | undefined,
    rules: ImageRules,
    param: string,
    model: string,
  ): Promise<{ width: number; height: number } | undefined> {
    try {
      const opened = key ? await this.deps.storage.get(key) : await this.open(url);
      if (!opened) return undefined;
      const probe = await probeImageStream(opened.body, rules.maxBytes);
      const info = probe.info;
      // Stored copies were checked when they came in.
      if (!key) checkImage(info, probe, rules, { param: param.replace(/\[\d+\]$/, ''), label: param, model });
      return info && info.format !== 'other' ? { width: info.width, height: info.height } : undefined;
    } catch (e) {
      if (e instanceof ApiError) throw new InputRejected(e.code, e.message);
      this.deps.logger.warn({ url: redact(url), err: String(e) }, 'input image could not be read; passing it on unchecked');
      return undefined;
    }
  }

  private async inspectMedia(
    url: string,
    def: MediaUrlField,
    field: string,
    model: string,
  ): Promise<{ width?: number; height?: number; seconds: number } | undefined> {
    const maxBytes = def.video?.maxBytes ?? def.audio?.maxBytes ?? 100 * 1024 * 1024;
    const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'reelay-input-'));
    const file = path.join(dir, 'media');
    try {
      const opened = await this.open(url);
      if (!opened) return undefined;
      let bytes = 0;
      const counter = new Transform({
        transform(chunk: Buffer, _enc, done) {
          bytes += chunk.length;
          if (bytes > maxBytes) return done(new InputRejected(`invalid_${def.type === 'video_url' ? 'video' : 'audio'}`, `${field} is larger than ${Math.round(maxBytes / 1048576)} MB, the most ${model} accepts.`));
          done(null, chunk);
        },
      });
      await pipeline(opened.body, counter, fs.createWriteStream(file));
      const probe = await probeMedia(file);
      return def.video ? checkVideo(probe, def, field, model, bytes) : checkAudio(probe, def, field, model);
    } catch (e) {
      if (e instanceof InputRejected) throw e;
      this.deps.logger.warn({ url: redact(url), err: String(e) }, 'input media could not be read; passing it on unchecked');
      return undefined;
    } finally {
      await fs.promises.rm(dir, { recursive: true, force: true });
    }
  }

  private async open(url: string) {
    const res = await this.deps.fetch(url, { headersTimeoutMs: 15_000, bodyTimeoutMs: 30_000 });
    if (res.status !== 200) {
      res.body.resume();
      throw new Error(`HTTP ${res.status}`);
    }
    return { body: res.body };
  }
}

type Probe = Awaited<ReturnType<typeof probeMedia>>;

function checkVideo(p: Probe, def: MediaUrlField, field: string, model: string, bytes: number) {
  const r = def.video!;
  const reject = (why: string) => new InputRejected('invalid_video', `${field} ${why}`);
  const container = p.container.join(',');
  if (!p.video) throw reject(`has no video stream ${model} can read.`);
  if (!/mp4|mov|quicktime/.test(container)) throw reject(`is ${container}; ${model} accepts MP4 or MOV.`);
  if (p.durationSeconds < r.minSeconds || p.durationSeconds > r.maxSeconds) {
    throw reject(`is ${p.durationSeconds.toFixed(1)} s long; ${model} accepts ${r.minSeconds}–${r.maxSeconds} s.`);
  }
  const { width, height, fps } = p.video;
  const short = Math.min(width, height);
  if (short < r.minShortSide) throw reject(`is ${width}×${height}; ${model} needs a short side of at least ${r.minShortSide} px.`);
  if (short / Math.max(width, height) < r.minAspect) throw reject(`has aspect ${width}:${height}; ${model} accepts 1:8 to 8:1.`);
  if (!(fps > r.minFpsExclusive)) throw reject(`runs at ${fps} fps; ${model} needs more than ${r.minFpsExclusive} fps.`);
  if (bytes > r.maxBytes) throw reject(`is larger than ${Math.round(r.maxBytes / 1048576)} MB.`);
  return { width, height, seconds: Math.min(p.durationSeconds, r.truncateToSeconds) };
}

function checkAudio(p: Probe, def: MediaUrlField, field: string, model: string) {
  const r = def.audio!;
  const reject = (why: string) => new InputRejected('invalid_audio', `${field} ${why}`);
  if (!p.audio) throw reject(`has no audio stream ${model} can read.`);
  const container = p.container.join(',');
  if (!r.formats.some((f) => container.includes(f))) throw reject(`is ${container}; ${model} accepts ${r.formats.join(', ')}.`);
  if (p.durationSeconds < r.minSeconds || p.durationSeconds > r.maxSeconds) {
    throw reject(`is ${p.durationSeconds.toFixed(1)} s long; ${model} accepts ${r.minSeconds}–${r.maxSeconds} s.`);
  }
  return { seconds: p.durationSeconds };
}

/** URLs in logs lose their query strings (signatures, tokens). */
function redact(url: string): string {
  return url.split('?')[0].slice(0, 200);
}
