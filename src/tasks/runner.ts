/**
 * Moves one leased task one step along: queued → submitted (start upstream, failing over between channels),
 * submitted → collecting (poll), collecting → completed (copy results into storage, settle). Failures end
 * in failed + refund; timeouts in failed/upstream_timeout + refund. Every change goes through the store,
 * guarded by the lease, so a task is never worked on by two workers and never finished twice.
 */
import { findModel } from '../models/registry.ts';
import { planOutput } from '../models/output.ts';
import type { ModelSpec } from '../models/spec.ts';
import type { PriceBook } from '../billing/prices.ts';
import type { Channel, ChannelRouter } from '../channels/router.ts';
import type { HookUrls } from '../channels/hookUrls.ts';
import type { ObjectStorage } from '../media/storage/types.ts';
import type { SafeFetch } from '../media/safeFetch.ts';
import type { Logger } from '../runtime/logger.ts';
import type { Store, TaskPatch } from '../store/types.ts';
import { openUpstreamOutput } from '../providers/openOutput.ts';
import { isProviderError, type ProviderContext, type UpstreamOutput } from '../providers/types.ts';
import { InputRejected, type InputInspector } from './inputs.ts';
import type { StoredVideo, TaskError, TaskOutcome, TaskRecord } from './task.ts';
import { estimateProgress, nextPollDelay, retryDelay } from './schedule.ts';

export interface RunnerDeps {
  store: Store;
  storage: ObjectStorage;
  router: ChannelRouter;
  prices: PriceBook;
  inputs: InputInspector;
  /** Guarded fetch for URLs from clients and upstream replies. */
  fetch: SafeFetch;
  /** Plain client for the configured upstream APIs. */
  api: SafeFetch;
  logger: Logger;
  workerId: string;
  leaseMs: number;
  /** How long stored results stay available, seconds. */
  resultTtlSeconds: number;
  maxResultBytes: number;
  /** Submit rounds (each trying every channel) before a task fails as upstream_unavailable. */
  maxSubmitRounds: number;
  /** Consecutive failed polls or result copies before a task fails. */
  maxStepErrors: number;
  /** Callback URLs for upstreams that can call back (channels with webhooks on). */
  hooks?: HookUrls;
  /** Called when a task finishes (metrics, wake-ups). */
  onFinished?: (task: TaskRecord) => void;
  now?: () => number;
}

export class TaskRunner {
  constructor(private readonly d: RunnerDeps) {}

  private now(): number {
    return this.d.now ? this.d.now() : Date.now();
  }

  private ctx(): ProviderContext {
    return { fetch: this.d.fetch, api: this.d.api, storage: this.d.storage, logger: this.d.logger };
  }

  async run(task: TaskRecord): Promise<void> {
    const log = this.d.logger.child({ taskId: task.id, model: task.model, phase: task.phase });
    const spec = findModel(task.model);
    if (!spec) return void (await this.fail(task, { code: 'internal_error', message: `model ${task.model} is no longer served` }));
    const heartbeat = setInterval(() => {
      void this.patch(task, { nextCheckAt: this.now() + this.d.leaseMs }).catch(() => undefined);
    }, Math.max(1000, this.d.leaseMs / 3));
    try {
      if (task.deadlineAt <= this.now()) return await this.timeout(task, spec);
      if (task.phase === 'queued') await this.start(task, spec);
      else if (task.phase === 'submitted') await this.check(task, spec);
      else if (task.phase === 'collecting') await this.collect(task, spec);
    } catch (e) {
      // A bug or a store/storage outage: keep the task, look again later.
      log.error({ err: e }, 'task step failed unexpectedly; will retry');
      await this.patch(task, { release: true, nextCheckAt: this.now() + retryDelay(task.attempts) }).catch(() => undefined);
    } finally {
      clearInterval(heartbeat);
    }
  }

  // --- queued → submitted ---------------------------------------------------------------------------

  private async start(task: TaskRecord, spec: ModelSpec): Promise<void> {
    let current = task;
    if (!current.facts) {
      let facts;
      try {
        facts = await this.d.inputs.inspect(current, spec);
      } catch (e) {
        if (e instanceof InputRejected) return void (await this.fail(current, { code: e.code, message: e.message }));
        throw e;
      }
      const plan = planOutput(spec, { model: current.model, mode: current.mode, params: current.params }, facts);
      const updated = await this.update(current, { facts, plan });
      if (!updated) return;
      current = updated;
    }
    const inputs = this.d.inputs.listInputs(current, spec);
    let failed = [...current.failedChannels];
    let lastError: TaskError | null = current.error;
    for (;;) {
      const now = this.now();
      const pick = this.d.router.pick(current.model, failed, now);
      if ('busy' in pick) return void (await this.patch(current, { failedChannels: failed, release: true, nextCheckAt: pick.retryAt }));
      if ('none' in pick) {
        if (failed.length === 0) {
          return void (await this.fail(current, { code: 'no_channel', message: `No upstream channel serves ${current.model}.` }));
        }
        // Every channel failed this round: wait and start a new round, or give up.
        const rounds = current.attempts + 1;
        if (rounds >= this.d.maxSubmitRounds) {
          return void (await this.fail(current, {
            code: 'upstream_unavailable',
            message: `No upstream accepted the task after ${rounds} rounds over every channel; last error: ${lastError?.message ?? 'unknown'}`,
            upstreamCode: lastError?.upstreamCode,
          }));
        }
        return void (await this.patch(current, { attempts: rounds, failedChannels: [], error: lastError, release: true, nextCheckAt: now + retryDelay(rounds) }));
      }
      const channel = pick.channel;
      const request = { model: current.model, mode: current.mode, params: current.params };
      const fits = channel.provider.canServe?.(request, inputs) ?? true;
      if (fits !== true) {
        lastError = { code: 'upstream_rejected', message: `${channel.name}: ${fits}` };
        failed = [...failed, channel.name];
        if (!this.d.router.channels.some((c) => c.serves(current.model) && !failed.includes(c.name) && (c.provider.canServe?.(request, inputs) ?? true) === true)) {
          return void (await this.fail(current, { code: 'upstream_rejected', message: `No configured upstream can take this request: ${fits}` }));
        }
        continue;
      }
      channel.submitBudget?.take(now);
      try {
        const operation = await channel.provider.start(
          {
            taskId: current.id,
            spec,
            request: { model: current.model, mode: current.mode, params: current.params },
            plan: current.plan,
            inputs,
            facts: current.facts ?? {},
            upstreamModel: channel.upstreamModel(current.model),
            webhookUrl: channel.settings.webhooks && this.d.hooks ? this.d.hooks.urlFor(channel.name, current.id) : undefined,
          },
          this.ctx(),
        );
        channel.recordSuccess();
        channel.inFlight++;
        const startedAt = this.now();
        await this.patch(current, {
          phase: 'submitted',
          upstream: { channel: channel.name, provider: channel.provider.kind, operation, startedAt },
          failedChannels: [],
          error: null,
          progress: 1,
          release: true,
          nextCheckAt: startedAt + channel.settings.pollMinMs,
        });
        this.d.logger.info({ taskId: current.id, channel: channel.name }, 'task started upstream');
        return;
      } catch (e) {
        if (!isProviderError(e)) throw e;
        lastError = { code: 'upstream_error', message: e.message, upstreamCode: e.upstreamCode };
        if (!e.retryable) return void (await this.fail(current, { code: 'upstream_rejected', message: e.message, upstreamCode: e.upstreamCode }));
        channel.recordFailure(e.message, this.now());
        if (e.rateLimited) channel.throttle(this.now() + (e.retryAfterMs ?? 5_000));
        this.d.logger.warn({ taskId: current.id, channel: channel.name, err: e.message }, 'submit failed; failing over');
        failed = [...failed, channel.name];
      }
    }
  }

  // --- submitted → collecting -----------------------------------------------------------------------

  private async check(task: TaskRecord, spec: ModelSpec): Promise<void> {
    const up = task.upstream!;
    const channel = this.d.router.get(up.channel);
    if (!channel) {
      return void (await this.fail(task, { code: 'upstream_unavailable', message: `Channel ${up.channel} is no longer configured.` }));
    }
    const now = this.now();
    if (channel.throttledUntil > now || !channel.pollBudget.take(now)) {
      const at = Math.max(channel.throttledUntil, channel.pollBudget.nextTokenAt(now));
      return void (await this.patch(task, { release: true, nextCheckAt: at + Math.floor(Math.random() * 250) }));
    }
    let status;
    try {
      status = await channel.provider.status(up.operation, this.ctx());
    } catch (e) {
      if (!isProviderError(e)) throw e;
      if (e.rateLimited) {
        // The upstream asked us to slow down: the channel waits, the task is not penalised.
        channel.throttle(this.now() + (e.retryAfterMs ?? 5_000));
        return void (await this.patch(task, { release: true, nextCheckAt: channel.throttledUntil }));
      }
      if (!e.retryable) {
        channel.inFlight = Math.max(0, channel.inFlight - 1);
        return void (await this.fail(task, { code: 'upstream_error', message: e.message, upstreamCode: e.upstreamCode }));
      }
      return void (await this.stepError(task, { code: 'upstream_error', message: e.message, upstreamCode: e.upstreamCode }));
    }
    switch (status.state) {
      case 'queued':
      case 'running': {
        const progress = estimateProgress(task, status.progress, this.now());
        return void (await this.patch(task, {
          status: status.state === 'running' ? 'processing' : 'pending',
          progress,
          attempts: 0,
          ...(status.etaSeconds !== undefined ? { estimatedSeconds: Math.round((this.now() - task.createdAt) / 1000 + status.etaSeconds) } : {}),
          release: true,
          nextCheckAt: this.now() + nextPollDelay(task, channel, this.now()),
        }));
      }
      case 'succeeded': {
        const outputs = await this.materialize(task, status.outputs);
        const updated = await this.update(task, {
          phase: 'collecting',
          status: 'processing',
          progress: 99,
          attempts: 0,
          upstream: { ...up, outputs, billedSeconds: status.billedSeconds, videos: status.videos },
        });
        if (updated) await this.collect(updated, spec);
        return;
      }
      case 'failed':
        channel.inFlight = Math.max(0, channel.inFlight - 1);
        return void (await this.fail(task, status.error));
      case 'cancelled':
        channel.inFlight = Math.max(0, channel.inFlight - 1);
        return void (await this.fail(task, { code: 'upstream_cancelled', message: 'The upstream cancelled the job.' }));
    }
  }

  /** Inline (base64) results go straight into storage, so the task row never carries video bytes. */
  private async materialize(task: TaskRecord, outputs: UpstreamOutput[]): Promise<UpstreamOutput[]> {
    const out: UpstreamOutput[] = [];
    for (let i = 0; i < outputs.length; i++) {
      const o = outputs[i];
      if (o.kind !== 'base64') {
        out.push(o);
        continue;
      }
      const key = resultKey(task.id, i);
      await this.d.storage.put(key, Buffer.from(o.data, 'base64'), { contentType: o.contentType, maxBytes: this.d.maxResultBytes });
      out.push({ kind: 'stored', key, contentType: o.contentType });
    }
    return out;
  }

  // --- collecting → completed -----------------------------------------------------------------------

  private async collect(task: TaskRecord, spec: ModelSpec): Promise<void> {
    const up = task.upstream!;
    const channel = this.d.router.get(up.channel);
    const outputs = up.outputs ?? [];
    if (outputs.length === 0) return void (await this.fail(task, { code: 'upstream_error', message: 'The upstream finished without a video.' }));
    const videos: StoredVideo[] = [];
    try {
      for (let i = 0; i < outputs.length; i++) {
        const o = outputs[i];
        const key = resultKey(task.id, i);
        const reported = up.videos?.[i];
        const facts = { width: reported?.width ?? task.plan.width, height: reported?.height ?? task.plan.height, seconds: reported?.seconds ?? task.plan.seconds };
        if (o.kind === 'stored' && o.key === key) {
          const stat = await this.d.storage.stat(key);
          if (!stat) throw new Error(`stored result ${key} vanished`);
          videos.push({ key, bytes: stat.bytes, contentType: stat.contentType, ...facts });
          continue;
        }
        const provider = channel?.provider;
        const opened = provider?.openOutput ? await provider.openOutput(o, this.ctx()) : await openUpstreamOutput(o, this.ctx());
        const stored = await this.d.storage.put(key, opened.body, { contentType: normaliseVideoType(opened.contentType), maxBytes: this.d.maxResultBytes });
        videos.push({ key, bytes: stored.bytes, contentType: stored.contentType, ...facts });
      }
    } catch (e) {
      const message = `Could not copy the result from the upstream: ${e instanceof Error ? e.message : String(e)}`;
      if (isProviderError(e) && !e.retryable) return void (await this.fail(task, { code: 'result_unavailable', message }));
      return void (await this.stepError(task, { code: 'result_unavailable', message }));
    }
    const billedSeconds = up.billedSeconds ?? task.plan.seconds * task.plan.count;
    const costMicros = this.d.prices.price(spec, task.mode, task.params, task.plan, billedSeconds);
    const expiresAt = Math.floor(this.now() / 1000) + this.d.resultTtlSeconds;
    const done = await this.finish(task, { status: 'completed', result: { videos, expiresAt }, costMicros, billedSeconds });
    if (channel) channel.inFlight = Math.max(0, channel.inFlight - 1);
    if (done && !done.changed) {
      // Cancelled (or finished elsewhere) while we copied: the copies are nobody's — except where another
      // worker completed the task (its lease ran out while this one copied): result keys are per task and
      // index, so that worker's result is stored under the same keys and must stay.
      const kept = new Set((done.task.result?.videos ?? []).map((v) => v.key));
      await Promise.all(videos.filter((v) => !kept.has(v.key)).map((v) => this.d.storage.delete(v.key).catch(() => undefined)));
    }
  }

  // --- endings ----------------------------------------------------------------------------------------

  private async timeout(task: TaskRecord, spec: ModelSpec): Promise<void> {
    await this.cancelUpstream(task);
    await this.fail(task, {
      code: 'upstream_timeout',
      message: `The task did not finish within ${spec.maxRunSeconds} s, the limit for ${spec.id}; it was stopped and refunded.`,
    });
  }

  async cancelUpstream(task: TaskRecord): Promise<void> {
    const up = task.upstream;
    if (!up || task.phase === 'collecting') return;
    const channel = this.d.router.get(up.channel);
    if (!channel?.provider.cancel) return;
    try {
      await channel.provider.cancel(up.operation, this.ctx());
      channel.inFlight = Math.max(0, channel.inFlight - 1);
    } catch (e) {
      this.d.logger.warn({ taskId: task.id, err: String(e) }, 'upstream cancel failed');
    }
  }

  /** A retryable poll or copy error: try again with backoff, or fail once there were too many in a row. */
  private async stepError(task: TaskRecord, error: TaskError): Promise<void> {
    const errors = task.attempts + 1;
    if (errors >= this.d.maxStepErrors) return void (await this.fail(task, error));
    await this.patch(task, { attempts: errors, error, release: true, nextCheckAt: this.now() + retryDelay(errors) });
  }

  private async fail(task: TaskRecord, error: TaskError): Promise<void> {
    await this.finish(task, { status: 'failed', error });
  }

  private async finish(task: TaskRecord, outcome: TaskOutcome) {
    const res = await this.d.store.finishTask(task.id, outcome, this.now());
    if (res?.changed) {
      this.d.logger.info({ taskId: task.id, status: outcome.status, error: outcome.status === 'completed' ? undefined : outcome.error }, 'task finished');
      this.d.onFinished?.(res.task);
    }
    return res;
  }

  private update(task: TaskRecord, patch: TaskPatch) {
    return this.d.store.updateTask(task.id, this.d.workerId, patch, this.now());
  }

  /** update, for a step that goes on without the changed task: the store skips returning and reading it back. */
  private patch(task: TaskRecord, patch: TaskPatch) {
    return this.d.store.patchTask(task.id, this.d.workerId, patch, this.now());
  }
}

export function resultKey(taskId: string, index: number): string {
  return `results/${taskId}/${index}.mp4`;
}

function normaliseVideoType(type: string): string {
  const t = type.split(';')[0].trim().toLowerCase();
  return t.startsWith('video/') ? t : 'video/mp4';
}

export type { Channel };
