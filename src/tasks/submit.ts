/**
 * Accepting a task whose body passed its model spec (`validateRequest`): check the key's permissions and
 * the queue limits, store inline images, plan the output, price it, then hold the price and insert the task
 * in one store transaction. Nothing is charged and nothing goes upstream unless every rule passed.
 */
import crypto from 'node:crypto';
import { monotonicFactory } from 'ulid';
import { ApiError } from '../errors.ts';
import { findModel } from '../models/registry.ts';
import type { ValidatedRequest } from '../models/validate.ts';
import { planOutput, type InputFacts } from '../models/output.ts';
import type { ModelSpec } from '../models/spec.ts';
import type { PriceBook } from '../billing/prices.ts';
import type { ChannelRouter } from '../channels/router.ts';
import type { ObjectStorage } from '../media/storage/types.ts';
import type { UrlSigner } from '../media/signedUrls.ts';
import type { AddressGuard } from '../media/safeFetch.ts';
import { needsStoring, storeInlineImages } from '../media/inlineImages.ts';
import type { ApiKeyRecord, CreateTaskResult, Store } from '../store/types.ts';
import type { StoredInput } from './task.ts';
import { QueueGauge } from './queueGauge.ts';

/**
 * A source of random fractions in [0, 1) for ULIDs, drawn from the system CSPRNG 4 KiB at a time. ulid's
 * default asks the CSPRNG for one byte per character — sixteen calls for each new id — which showed up as
 * several percent of a request in profiles (docs/decisions/0012-performance.md). Same distribution
 * (byte / 256), same source.
 */
export function pooledRandom(): () => number {
  const pool = new Uint8Array(4096);
  let next = pool.length;
  return () => {
    if (next === pool.length) {
      crypto.randomFillSync(pool);
      next = 0;
    }
    return pool[next++] / 256;
  };
}

const ulid = monotonicFactory(pooledRandom());

export function newTaskId(): string {
  return `task_${ulid()}`;
}

export interface SubmitDeps {
  store: Store;
  storage: ObjectStorage;
  signer: UrlSigner;
  prices: PriceBook;
  router: ChannelRouter;
  guard: AddressGuard;
  limits: { maxQueued: number; maxQueuedPerModel: number | Record<string, number>; defaultMaxConcurrentTasks: number | null };
  inputTtlSeconds: number;
  idempotencyWindowMs: number;
  /** Tells workers there is new work (in-process engine, or Redis in multi-process mode). */
  wake: (taskId: string) => void;
}

export class SubmitService {
  private readonly queue: QueueGauge;

  constructor(private readonly d: SubmitDeps) {
    this.queue = new QueueGauge(d.store);
  }

  /**
   * Accepts a body that passed its model's rules (`checkSubmit` in routes/videos.ts): validation runs before
   * anything is awaited, so a refused body is answered without a promise (docs/decisions/0012-performance.md).
   */
  async accept(key: ApiKeyRecord, request: ValidatedRequest, body: unknown, idempotencyKey: string | undefined): Promise<CreateTaskResult> {
    const spec = findModel(request.model)!;
    if (key.models && !key.models.includes(spec.id)) {
      throw new ApiError('permission_denied', `This API key may not use ${spec.id}; it may use ${key.models.join(', ') || 'no models'}.`, 'model');
    }
    // What needs no wait is not awaited: most submits have no callback, a fresh queue count and no image.
    const raw = (body as Record<string, unknown>).callback_url;
    const callbackUrl = raw === undefined || raw === null ? null : await this.callbackUrl(raw);
    if (!this.d.router.servesModel(spec.id)) throw new ApiError('no_channel', `No upstream channel is configured for ${spec.id}.`, 'model');
    const queueChecked = this.checkQueue(spec.id);
    if (queueChecked) await queueChecked;

    const id = newTaskId();
    const now = Date.now();
    const stored = needsStoring(spec, request, this.d.signer, now)
      ? await storeInlineImages(spec, request, {
          storage: this.d.storage,
          signer: this.d.signer,
          taskId: id,
          now,
          ttlSeconds: this.d.inputTtlSeconds,
        })
      : { request, inputs: [], facts: {} };
    try {
      const result = await this.insert(key, spec, stored.request, stored.inputs, stored.facts, id, now, callbackUrl, body, idempotencyKey);
      if (result.replayed) await this.discard(stored.inputs);
      else this.d.wake(result.task.id);
      return result;
    } catch (e) {
      await this.discard(stored.inputs);
      throw e;
    }
  }

  private insert(
    key: ApiKeyRecord,
    spec: ModelSpec,
    request: ValidatedRequest,
    inputs: StoredInput[],
    facts: InputFacts,
    id: string,
    now: number,
    callbackUrl: string | null,
    body: unknown,
    idempotencyKey: string | undefined,
  ): Promise<CreateTaskResult> {
    const plan = planOutput(spec, request, facts);
    const billedSeconds = plan.seconds * plan.count;
    const priceMicros = this.d.prices.price(spec, request.mode, request.params, plan, billedSeconds);
    const channel = this.d.router.channels.find((c) => c.serves(spec.id));
    const estimatedSeconds = channel?.provider.estimateSeconds?.(spec, plan) ?? spec.estimatedSeconds;
    return this.d.store.createTask(
      {
        id,
        keyId: key.id,
        model: spec.id,
        mode: request.mode,
        params: request.params,
        inputs,
        plan,
        createdAt: now,
        estimatedSeconds,
        deadlineAt: now + spec.maxRunSeconds * 1000,
        priceMicros,
        billedSeconds,
        callbackUrl,
        idempotencyKey: idempotencyKey ?? null,
        nextCheckAt: now,
      },
      {
        idempotency: idempotencyKey
          ? { key: idempotencyKey, requestHash: requestHash(body), windowMs: this.d.idempotencyWindowMs }
          : undefined,
        maxConcurrentTasks: key.maxConcurrentTasks ?? this.d.limits.defaultMaxConcurrentTasks,
      },
    );
  }

  private async callbackUrl(raw: unknown): Promise<string> {
    if (typeof raw !== 'string') throw new ApiError('invalid_type', 'callback_url must be an http(s) URL string.', 'callback_url');
    let url: URL;
    try {
      url = this.d.guard.checkUrl(raw, false);
    } catch (e) {
      throw new ApiError('invalid_url', `callback_url is not allowed: ${(e as Error).message}.`, 'callback_url');
    }
    const host = url.hostname.toLowerCase();
    if ((host === 'localhost' || host.endsWith('.localhost')) && !this.d.guard.isHostAllowed(host)) {
      throw new ApiError('invalid_url', 'callback_url is not allowed: localhost is a loopback address.', 'callback_url');
    }
    try {
      await this.d.guard.checkResolves(url.hostname);
    } catch (e) {
      throw new ApiError('invalid_url', `callback_url is not allowed: ${(e as Error).message}.`, 'callback_url');
    }
    return url.toString();
  }

  /** Refuses a submit the queue limits do not allow; a promise only when a count had to be read. */
  private checkQueue(model: string): Promise<void> | undefined {
    const { maxQueued, maxQueuedPerModel } = this.d.limits;
    const perModel = typeof maxQueuedPerModel === 'number' ? maxQueuedPerModel : maxQueuedPerModel[model];
    const all = this.queue.total(maxQueued);
    const forModel = perModel !== undefined ? this.queue.ofModel(model, perModel) : 0;
    if (typeof all === 'number' && typeof forModel === 'number') return this.judgeQueue(model, all, forModel, maxQueued, perModel);
    return Promise.all([all, forModel]).then(([a, m]) => this.judgeQueue(model, a, m, maxQueued, perModel));
  }

  private judgeQueue(model: string, all: number, forModel: number, maxQueued: number, perModel: number | undefined): undefined {
    if (all >= maxQueued || (perModel !== undefined && forModel >= perModel)) {
      throw new ApiError('queue_full', `The gateway has as many unfinished ${all >= maxQueued ? '' : `${model} `}tasks as it accepts; retry shortly.`, null, {
        'Retry-After': '10',
      });
    }
  }

  private async discard(inputs: StoredInput[]): Promise<void> {
    await Promise.all(inputs.map((i) => this.d.storage.delete(i.key).catch(() => undefined)));
  }
}

/** Hash of the body as sent, independent of key order, for Idempotency-Key comparison. */
export function requestHash(body: unknown): string {
  return crypto.createHash('sha256').update(canonicalJson(body)).digest('hex');
}

function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}
