/**
 * Every setting of reelay, its default and its validation, in one zod schema. The config file
 * (REELAY_CONFIG, JSON or YAML) uses these snake_case keys; each scalar setting also has an environment form
 * REELAY_<PATH> (see env.ts), and PORT / HOST as the contract names them.
 */
import { z } from 'zod';

const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().min(0);

export const PROVIDER_KINDS = ['simulator', 'apimart', 'dashscope', 'vidu', 'gemini', 'vertex', 'fal'] as const;

export const channelSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, dot, dash and underscore only'),
    provider: z.enum(PROVIDER_KINDS),
    base_url: z.string().url().optional(),
    api_key: z.string().min(1).optional(),
    /** Vertex: a service-account JSON (object, or a path to the file). */
    credentials: z.union([z.string().min(1), z.record(z.string(), z.unknown())]).optional(),
    models: z.array(z.string().min(1)).min(1).default(['*']),
    /** Model id → the upstream's own model id. */
    model_map: z.record(z.string(), z.string()).default({}),
    weight: z.number().positive().default(1),
    priority: z.number().int().default(0),
    max_concurrency: positiveInt.nullable().default(null),
    rpm: positiveInt.nullable().default(null),
    poll_rps: z.number().positive().default(20),
    poll_min_ms: positiveInt.default(2000),
    poll_max_ms: positiveInt.default(15000),
    /** Ask the upstream to call back (where it can) instead of only polling. */
    webhooks: z.boolean().default(true),
    /** Provider-specific settings (region, project, location, ...). */
    options: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();

const priceTable = z.record(z.string(), z.union([z.number(), z.string()]));
const priceSchema = z
  .object({
    per_second: priceTable,
    with_audio: priceTable.optional(),
    modes: z.record(z.string(), priceTable).optional(),
  })
  .strict();

export const configSchema = z
  .object({
    host: z.string().min(1).default('127.0.0.1'),
    port: nonNegativeInt.max(65535).default(8080),
    public_url: z.string().url().optional(),
    data_dir: z.string().min(1).default('./data'),
    admin_token: z.string().min(16, 'at least 16 characters').optional(),
    log_level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    role: z.enum(['all', 'api', 'worker']).default('all'),
    database_url: z.string().optional(),
    /** PostgreSQL connections per process (the pool's maximum). */
    database_pool_size: positiveInt.max(1000).default(10),
    sqlite_synchronous: z.enum(['FULL', 'NORMAL']).default('FULL'),
    /** Most memory SQLite's page cache may hold, MiB (used only as the database grows into it). */
    sqlite_cache_mib: positiveInt.min(2).max(65536).default(16),
    /** How much of the database file SQLite reads through a memory map, MiB; 0 reads it with read(2). */
    sqlite_mmap_mib: nonNegativeInt.max(2047).default(2047),
    redis_url: z.string().optional(),
    /** Prefix of every Redis key and channel (several gateways, or tests, may share one Redis). */
    redis_prefix: z.string().min(1).default('reelay:'),
    /** Secret that signs file URLs and upstream callback URLs; all processes of one gateway must share it. */
    signing_secret: z.string().min(32, 'at least 32 characters').optional(),
    s3: z
      .object({
        endpoint: z.string().url().optional(),
        bucket: z.string().min(1),
        region: z.string().default('us-east-1'),
        access_key_id: z.string().optional(),
        secret_access_key: z.string().optional(),
        force_path_style: z.boolean().default(false),
        /** Hand out presigned URLs of the bucket instead of gateway-signed ones. */
        presign: z.boolean().default(false),
        prefix: z.string().default(''),
      })
      .strict()
      .optional(),
    sim_latency_ms: nonNegativeInt.default(3000),
    allow_private_hosts: z.array(z.string()).default([]),
    channels: z.array(channelSchema).default([]),
    prices: z.record(z.string(), priceSchema).default({}),
    limits: z
      .object({
        body_limit_bytes: positiveInt.default(64 * 1024 * 1024),
        upload_limit_bytes: positiveInt.default(50 * 1024 * 1024),
        /** Unfinished tasks the gateway accepts in all (503 queue_full beyond). */
        max_queued: positiveInt.default(1_000_000),
        /** Unfinished tasks per model (503 queue_full beyond); a number for all models or a map. */
        max_queued_per_model: z.union([positiveInt, z.record(z.string(), positiveInt)]).default(200_000),
        default_rate_limit_rpm: positiveInt.nullable().default(null),
        default_max_concurrent_tasks: positiveInt.nullable().default(null),
      })
      .strict()
      .prefault({}),
    retention: z
      .object({
        result_ttl_seconds: positiveInt.default(86_400),
        upload_ttl_seconds: positiveInt.default(259_200),
      })
      .strict()
      .prefault({}),
    engine: z
      .object({
        max_in_flight: positiveInt.default(256),
        lease_ms: positiveInt.default(60_000),
        idle_sleep_ms: positiveInt.default(1000),
        render_concurrency: positiveInt.optional(),
        max_result_bytes: positiveInt.default(2 * 1024 * 1024 * 1024),
        max_submit_rounds: positiveInt.default(5),
        max_step_errors: positiveInt.default(8),
      })
      .strict()
      .prefault({}),
    webhooks: z
      .object({
        timeout_ms: positiveInt.default(10_000),
        /** Deliveries are retried with exponential backoff (first retry after this, doubling, capped at 15 min) for the window. */
        first_retry_ms: positiveInt.default(10_000),
        retry_window_seconds: z.number().int().min(3600, 'at least 3600 (deliveries are retried for at least an hour)').default(2 * 3600),
      })
      .strict()
      .prefault({}),
    idempotency_window_seconds: positiveInt.default(86_400),
    /** On shutdown, /readyz answers 503 and new tasks are refused for this long before the listener closes. */
    shutdown_drain_ms: nonNegativeInt.default(2000),
  })
  .strict();

export type ReelayConfigInput = z.input<typeof configSchema>;
export type ReelayConfig = z.output<typeof configSchema>;
export type ChannelConfig = z.output<typeof channelSchema>;
