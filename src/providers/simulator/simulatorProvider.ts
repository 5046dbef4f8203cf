/**
 * The embedded upstream: behaves like a real video API behind the same provider interface. A job is
 * "queued", then "running" for REELAY_SIM_LATENCY_MS, then its videos are rendered with ffmpeg (bounded
 * concurrency, child processes) at exactly the size, length and frame rate the real model would give.
 *
 * Everything about a job is in its operation (persisted with the task) or derivable from it, so after a
 * restart the same job reaches the same result: a missing render is simply rendered again, identically.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { listModels } from '../../models/registry.ts';
import type { OutputPlan } from '../../models/output.ts';
import type { ModelSpec } from '../../models/spec.ts';
import type { ProviderContext, StartRequest, StatusResult, UpstreamOperation, VideoProvider } from '../types.ts';
import type { RenderPool } from './renderPool.ts';

export interface SimulatorOptions {
  /** Where rendered videos are written before the gateway copies them into storage. */
  workDir: string;
  /** How long a job runs before rendering starts, ms. */
  latencyMs: number;
  pool: RenderPool;
}

interface SimOperation {
  job: string;
  model: string;
  prompt: string;
  seed: number;
  plan: OutputPlan;
  startedAt: number;
  latencyMs: number;
  /** First input image (I2V), used as the background: a storage key or a URL. */
  imageKey?: string;
  imageUrl?: string;
}

const FAIL_MARKER = 'sim:fail';

export class SimulatorProvider implements VideoProvider {
  readonly kind = 'simulator';
  private readonly ids = new Set(listModels().map((m) => m.id));
  /** Render outcomes of this process; a render lost to a restart is redone on the next status call. */
  private readonly renders = new Map<string, Promise<void>>();
  private readonly failures = new Map<string, string>();

  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly opts: SimulatorOptions) {
    fs.mkdirSync(opts.workDir, { recursive: true });
    // Renders are copied into storage right after they finish; an hour-old one is left over. A job that
    // still needs it renders it again, identically.
    this.sweeper = setInterval(() => void this.removeOlderThan(Date.now() - 3_600_000), 600_000);
    this.sweeper.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    await Promise.allSettled([...this.renders.values()]);
  }

  async removeOlderThan(cutoffMs: number): Promise<void> {
    for (const name of await fs.promises.readdir(this.opts.workDir).catch(() => [] as string[])) {
      const file = path.join(this.opts.workDir, name);
      const stat = await fs.promises.stat(file).catch(() => undefined);
      if (stat && stat.mtimeMs < cutoffMs) await fs.promises.rm(file, { force: true });
    }
  }

  supports(modelId: string): boolean {
    return this.ids.has(modelId);
  }

  /** The latency plus a render time that grows with pixels × frames (about 0.3 s per 1080p second). */
  estimateSeconds(_spec: ModelSpec, plan: OutputPlan): number {
    const renderSeconds = (plan.seconds * plan.count * plan.width * plan.height) / (1920 * 1080) * 0.3;
    return Math.ceil(this.opts.latencyMs / 1000 + 1 + renderSeconds);
  }

  async start(req: StartRequest): Promise<UpstreamOperation> {
    const params = req.request.params;
    const image = req.request.mode === 'I2V' || req.request.mode === 'FLF' ? req.inputs.find((i) => i.field !== 'video_url') : undefined;
    const op: SimOperation = {
      job: `sim_${req.taskId}`,
      model: req.request.model,
      prompt: typeof params.prompt === 'string' ? params.prompt : '',
      // Omitted seed: random as the seeds say, but fixed per task so a re-render is identical.
      seed: typeof params.seed === 'number' ? params.seed : seedFrom(req.taskId),
      plan: req.plan,
      startedAt: Date.now(),
      latencyMs: this.opts.latencyMs,
      ...(image?.storageKey ? { imageKey: image.storageKey } : image ? { imageUrl: image.url } : {}),
    };
    return op as unknown as UpstreamOperation;
  }

  async status(raw: UpstreamOperation, ctx: ProviderContext): Promise<StatusResult> {
    const op = raw as unknown as SimOperation;
    const elapsed = Date.now() - op.startedAt;
    if (elapsed < op.latencyMs) {
      const progress = Math.floor((elapsed / Math.max(1, op.latencyMs)) * 90);
      return { state: elapsed < op.latencyMs * 0.1 ? 'queued' : 'running', progress };
    }
    if (op.prompt.toLowerCase().includes(FAIL_MARKER)) {
      return {
        state: 'failed',
        error: {
          code: 'upstream_error',
          message: `The upstream rejected the job: InternalError.Algo — simulated failure requested by "${FAIL_MARKER}" in the prompt.`,
          upstreamCode: 'InternalError.Algo',
        },
      };
    }
    const failure = this.failures.get(op.job);
    if (failure) {
      this.failures.delete(op.job);
      return { state: 'failed', error: { code: 'upstream_error', message: `The simulated render failed: ${failure}` } };
    }
    const files = Array.from({ length: op.plan.count }, (_, i) => this.fileOf(op, i));
    if (files.every((f) => fs.existsSync(f))) {
      return {
        state: 'succeeded',
        outputs: files.map((f) => ({ kind: 'file', path: f, contentType: 'video/mp4' })),
        billedSeconds: op.plan.seconds * op.plan.count,
        videos: files.map(() => ({ width: op.plan.width, height: op.plan.height, seconds: op.plan.seconds })),
      };
    }
    this.ensureRender(op, ctx);
    return { state: 'running', progress: 95 };
  }

  async cancel(raw: UpstreamOperation): Promise<void> {
    const op = raw as unknown as SimOperation;
    for (let i = 0; i < op.plan.count; i++) await fs.promises.rm(this.fileOf(op, i), { force: true });
  }

  private fileOf(op: SimOperation, index: number): string {
    return path.join(this.opts.workDir, `${op.job}-${index}.mp4`);
  }

  private ensureRender(op: SimOperation, ctx: ProviderContext): void {
    if (this.renders.has(op.job)) return;
    const renderAll = (background: string | undefined) =>
      Promise.all(
        Array.from({ length: op.plan.count }, (_, i) =>
          this.opts.pool.render({
            outPath: this.fileOf(op, i),
            width: op.plan.width,
            height: op.plan.height,
            fps: op.plan.fps,
            seconds: op.plan.seconds,
            audio: op.plan.audio,
            prompt: op.prompt,
            seed: op.seed,
            model: op.model,
            index: i,
            count: op.plan.count,
            inputImagePath: background,
          }),
        ),
      );
    const work = (async () => {
      const background = await this.fetchImage(op, ctx);
      try {
        await renderAll(background);
      } catch (e) {
        if (!background) throw e;
        // An input image ffmpeg cannot decode must not fail the job: render on the plain background.
        ctx.logger.warn({ job: op.job, err: String(e) }, 'render with the input image failed; rendering without it');
        await renderAll(undefined);
      } finally {
        if (background) await fs.promises.rm(background, { force: true });
      }
    })()
      .catch((e) => {
        this.failures.set(op.job, e instanceof Error ? e.message.split('\n')[0] : String(e));
        ctx.logger.error({ job: op.job, err: e }, 'simulated render failed');
      })
      .finally(() => this.renders.delete(op.job));
    this.renders.set(op.job, work);
  }

  /** Copies the I2V first frame to a local file for ffmpeg; an unreadable image just means no background. */
  private async fetchImage(op: SimOperation, ctx: ProviderContext): Promise<string | undefined> {
    if (!op.imageKey && !op.imageUrl) return undefined;
    const file = path.join(this.opts.workDir, `${op.job}-input`);
    try {
      if (op.imageKey) {
        const obj = await ctx.storage.get(op.imageKey);
        if (!obj) return undefined;
        await pipeline(obj.body, fs.createWriteStream(file));
      } else {
        const res = await ctx.fetch(op.imageUrl!, { headersTimeoutMs: 10_000 });
        if (res.status !== 200) return void res.body.resume();
        await pipeline(res.body, fs.createWriteStream(file));
      }
      return file;
    } catch (e) {
      ctx.logger.warn({ job: op.job, err: String(e) }, 'simulator could not read the input image; rendering without it');
      await fs.promises.rm(file, { force: true });
      return undefined;
    }
  }
}

function seedFrom(taskId: string): number {
  return crypto.createHash('sha256').update(taskId).digest().readUInt32BE(0) & 0x7fffffff;
}
