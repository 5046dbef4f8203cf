/**
 * Wires the gateway together from its configuration and runs it: store, storage, URL signing, channels,
 * the engine and its sweepers, the HTTP app. `close()` shuts down gracefully: stop taking requests and
 * work, let running steps finish (they release their leases), close the store last.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { ReelayConfig } from '../config/schema.ts';
import { buildApp } from '../api/app.ts';
import type { AppContext, ReadinessCheck } from '../api/context.ts';
import { ApiKeys } from '../accounts/apiKeys.ts';
import { PriceBook } from '../billing/prices.ts';
import { Channel, ChannelRouter } from '../channels/router.ts';
import { HookUrls } from '../channels/hookUrls.ts';
import { listModels } from '../models/registry.ts';
import type { ObjectStorage } from '../media/storage/types.ts';
import { UrlSigner, loadOrCreateSecret } from '../media/signedUrls.ts';
import { AddressGuard, createSafeFetch } from '../media/safeFetch.ts';
import { RenderPool } from '../providers/simulator/renderPool.ts';
import { createProvider, DEFAULT_SIMULATOR_CHANNEL } from '../providers/registry.ts';
import { SqliteStore } from '../store/sqlite/sqliteStore.ts';
import { openStore } from '../store/open.ts';
import { openStorage } from '../media/storage/open.ts';
import { openShared } from './shared.ts';
import type { Store } from '../store/types.ts';
import { TaskEngine } from '../tasks/engine.ts';
import { TaskRunner } from '../tasks/runner.ts';
import { InputInspector } from '../tasks/inputs.ts';
import { Sweepers } from '../tasks/sweepers.ts';
import { SubmitService } from '../tasks/submit.ts';
import type { TaskRecord } from '../tasks/task.ts';
import { WebhookDeliverer } from '../webhooks/deliverer.ts';
import { registerUsageMetrics } from './usageMetrics.ts';
import { createLogger, type Logger } from './logger.ts';
import { Metrics } from './metrics.ts';
import { ensureAdminToken } from './adminToken.ts';

export interface Gateway {
  app: FastifyInstance;
  ctx: AppContext;
  config: ReelayConfig;
  /** Where the gateway listens, e.g. http://127.0.0.1:8080 */
  url: string;
  store: Store;
  engine: TaskEngine | null;
  sweepers: Sweepers | null;
  close(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  /** Print first-start notices (the generated admin token) here; default stdout. */
  announce?: (line: string) => void;
}

export async function startGateway(config: ReelayConfig, opts: StartOptions = {}): Promise<Gateway> {
  const logger = opts.logger ?? createLogger(config.log_level);
  const announce = opts.announce ?? ((line: string) => process.stdout.write(`${line}\n`));
  fs.mkdirSync(config.data_dir, { recursive: true });

  const port = config.port === 0 ? await freePort(config.host) : config.port;
  const listenUrl = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  const publicUrl = (config.public_url ?? listenUrl).replace(/\/+$/, '');

  const store: Store = await openStore(config);
  const storage: ObjectStorage = openStorage(config);
  const shared = openShared(config, logger);
  // One gateway, many processes: they must share the secret (REELAY_SIGNING_SECRET); alone, a file will do.
  const secret = config.signing_secret ? Buffer.from(config.signing_secret) : await loadOrCreateSecret(path.join(config.data_dir, 'url-signing.key'));
  const signer = new UrlSigner(secret, publicUrl);
  const hooks = new HookUrls(secret, publicUrl);
  const adminToken = await ensureAdminToken(config, announce);
  const guard = new AddressGuard({ allow: config.allow_private_hosts });
  const outbound = createSafeFetch(guard);
  const upstreamApi = createSafeFetch(null);
  const metrics = new Metrics();

  const renderPool = new RenderPool({ concurrency: config.engine.render_concurrency ?? Math.max(1, os.availableParallelism()) });
  const channelConfigs = config.channels.length > 0 ? config.channels : [DEFAULT_SIMULATOR_CHANNEL];
  const providerDeps = {
    simWorkDir: path.join(config.data_dir, 'simulator'),
    simLatencyMs: config.sim_latency_ms,
    renderPool,
    webhookBaseUrl: `${publicUrl}/hooks`,
  };
  const router = new ChannelRouter(
    channelConfigs.map(
      (c, i) =>
        new Channel(
          {
            name: c.name,
            provider: c.provider,
            models: c.models,
            modelMap: c.model_map,
            weight: c.weight,
            priority: c.priority,
            maxConcurrency: c.max_concurrency,
            rpm: c.rpm,
            pollRps: c.poll_rps,
            pollMinMs: c.poll_min_ms,
            pollMaxMs: c.poll_max_ms,
            webhooks: c.webhooks,
          },
          createProvider(c, providerDeps, i),
        ),
    ),
  );
  const prices = new PriceBook(listModels(), config.prices);
  const keys = new ApiKeys(store);
  const urlFor = (key: string, expiresAt: number) => signer.sign(key, expiresAt);

  const runsWorker = config.role !== 'api';
  const workerId = `${os.hostname()}:${process.pid}:${crypto.randomBytes(3).toString('hex')}`;
  const runner = new TaskRunner({
    store,
    storage,
    router,
    prices,
    inputs: new InputInspector({ storage, fetch: outbound.fetch, signer, logger }),
    fetch: outbound.fetch,
    api: upstreamApi.fetch,
    logger,
    workerId,
    leaseMs: config.engine.lease_ms,
    resultTtlSeconds: config.retention.result_ttl_seconds,
    maxResultBytes: config.engine.max_result_bytes,
    maxSubmitRounds: config.engine.max_submit_rounds,
    maxStepErrors: config.engine.max_step_errors,
    hooks,
    onFinished: (t) => taskFinished(t),
  });
  const engine = runsWorker
    ? new TaskEngine(store, runner, logger, {
        workerId,
        leaseMs: config.engine.lease_ms,
        maxInFlight: config.engine.max_in_flight,
        idleSleepMs: config.engine.idle_sleep_ms,
      })
    : null;
  const sweepers = runsWorker
    ? new Sweepers(store, storage, runner, logger, {
        workerId,
        leaseMs: config.engine.lease_ms,
        timeoutEveryMs: 15_000,
        retentionEveryMs: 600_000,
        uploadTtlSeconds: config.retention.upload_ttl_seconds,
        idempotencyWindowMs: config.idempotency_window_seconds * 1000,
      })
    : null;

  const deliverer = runsWorker
    ? new WebhookDeliverer(store, outbound.fetch, urlFor, logger, {
        timeoutMs: config.webhooks.timeout_ms,
        firstRetryMs: config.webhooks.first_retry_ms,
        retryWindowMs: config.webhooks.retry_window_seconds * 1000,
        leaseMs: config.webhooks.timeout_ms * 3,
        concurrency: 32,
        idleSleepMs: config.engine.idle_sleep_ms,
      })
    : null;
  function taskFinished(t: TaskRecord): void {
    metrics.tasksFinished.inc({ model: t.model, status: t.status });
    if (t.callbackUrl) {
      deliverer?.wake();
      // A cancel taken by an API process: the webhook goes out from a worker.
      if (!deliverer) shared.wakeBus.publish();
    }
  }
  /** New work or an upstream callback: this process's engine now, every other worker through the bus. */
  function wake(taskId?: string): void {
    engine?.wake(taskId);
    shared.wakeBus.publish(taskId);
  }
  if (engine || deliverer) {
    shared.wakeBus.subscribe((taskId) => {
      engine?.wake(taskId);
      if (!taskId) deliverer?.wake();
    });
  }

  const submit = new SubmitService({
    store,
    storage,
    signer,
    prices,
    router,
    guard,
    limits: {
      maxQueued: config.limits.max_queued,
      maxQueuedPerModel: config.limits.max_queued_per_model,
      defaultMaxConcurrentTasks: config.limits.default_max_concurrent_tasks,
    },
    inputTtlSeconds: config.retention.upload_ttl_seconds,
    idempotencyWindowMs: config.idempotency_window_seconds * 1000,
    wake: (id) => wake(id),
  });

  let accepting = true;
  metrics.gauge('reelay_tasks_unfinished', 'Tasks not yet finished, by model.', ['model'], async (set) => {
    for (const m of listModels()) set({ model: m.id }, await store.countUnfinished(m.id));
  });
  registerUsageMetrics(metrics, store);
  metrics.gauge('reelay_channel_healthy', 'Whether each channel takes work now (0 while cooling down or throttled).', ['channel', 'provider'], (set) => {
    const now = Date.now();
    for (const c of router.channels) set({ channel: c.name, provider: c.provider.kind }, c.isHealthy(now) && c.throttledUntil <= now ? 1 : 0);
  });
  metrics.gauge('reelay_channel_in_flight', 'Tasks this process has upstream, per channel.', ['channel'], (set) => {
    for (const c of router.channels) set({ channel: c.name }, c.inFlight);
  });
  metrics.gauge('reelay_channel_cooldowns', 'Cooldowns entered in a row, per channel (0 = healthy).', ['channel'], (set) => {
    for (const c of router.channels) set({ channel: c.name }, c.health.cooldowns);
  });
  metrics.gauge('reelay_engine_in_flight', 'Task steps running in this process.', [], (set) => set({}, engine?.inFlight ?? 0));
  metrics.gauge('reelay_render_pool', 'Simulator renders running and waiting.', ['state'], (set) => {
    set({ state: 'running' }, renderPool.pending);
    set({ state: 'waiting' }, renderPool.size);
  });

  const ctx: AppContext = {
    config,
    store,
    storage,
    signer,
    prices,
    router,
    keys,
    submit,
    limiter: shared.limiter,
    metrics,
    logger,
    adminToken,
    hooks,
    urlFor,
    cancelUpstream: (task) => runner.cancelUpstream(task),
    taskFinished,
    wakeTask: (id) => wake(id),
    accepting: () => accepting,
    readiness: async (): Promise<ReadinessCheck[]> => {
      const checks: ReadinessCheck[] = [];
      try {
        await store.nextDueAt();
        checks.push({ name: 'store', ok: true, detail: store.kind });
      } catch (e) {
        checks.push({ name: 'store', ok: false, detail: String(e) });
      }
      try {
        await storage.stat('readyz/probe');
        checks.push({ name: 'storage', ok: true, detail: storage.kind });
      } catch (e) {
        checks.push({ name: 'storage', ok: false, detail: String(e) });
      }
      // Without Redis every request is still served (rate limits fail open, wake-ups fall back to polling the
      // store), so an outage degrades the process without taking it out of a load balancer's rotation.
      if (shared.redis) {
        const connected = await shared.redis.ping();
        checks.push({ name: 'redis', ok: true, detail: { connected, serves: 'rate limits and wake-ups', ...(connected ? {} : { degraded: 'rate limits fail open; wake-ups fall back to polling the store' }) } });
      }
      const now = Date.now();
      for (const c of router.channels) {
        checks.push({
          name: `channel:${c.name}`,
          ok: true, // a cooling channel degrades service but the gateway can still take work
          detail: { provider: c.provider.kind, healthy: c.isHealthy(now), in_flight: c.inFlight, cooldown_until: c.health.cooldownUntil || null, last_error: c.health.lastError },
        });
      }
      return checks;
    },
  };

  const app = await buildApp(ctx, { routes: config.role === 'worker' ? 'health' : 'all' });
  await app.listen({ host: config.host, port });
  if (store instanceof SqliteStore) await releaseDeadLocalLeases(store, logger);
  engine?.start();
  sweepers?.start();
  deliverer?.start();
  logger.info({ url: listenUrl, publicUrl, dataDir: config.data_dir, role: config.role, channels: router.channels.map((c) => c.name) }, 'reelay listening');

  let closing: Promise<void> | null = null;
  return {
    app,
    ctx,
    config,
    url: listenUrl,
    store,
    engine,
    sweepers,
    close: () =>
      (closing ??= (async () => {
        accepting = false;
        // Still listening: /readyz says 503 so load balancers stop sending work; then stop listening.
        if (config.shutdown_drain_ms > 0) await new Promise((r) => setTimeout(r, config.shutdown_drain_ms));
        await app.close();
        await engine?.stop();
        await sweepers?.stop();
        await deliverer?.stop();
        await renderPool.close();
        await outbound.close();
        await upstreamApi.close();
        await shared.close();
        await storage.close?.();
        await store.close();
        logger.info('reelay stopped');
      })()),
  };
}

/**
 * Leases held by processes of this host that no longer exist are released at once, so a restart picks its
 * tasks up immediately instead of waiting for the leases to expire.
 */
async function releaseDeadLocalLeases(store: Store, logger: Logger): Promise<void> {
  const host = os.hostname();
  for (const owner of await store.leaseOwners()) {
    const [ownerHost, pid] = owner.split(':');
    if (ownerHost !== host || !pid || Number(pid) === process.pid || isAlive(Number(pid))) continue;
    const n = await store.releaseLeases(owner, Date.now());
    if (n) logger.info({ owner, tasks: n }, 'resumed tasks of a stopped process');
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}
