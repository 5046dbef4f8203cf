/**
 * The environment form of every setting: REELAY_<PATH> in upper snake case (limits.max_queued →
 * REELAY_LIMITS_MAX_QUEUED), plus the names the contract fixes (PORT, HOST, REELAY_DATA_DIR, ...).
 * Lists are comma-separated; object-valued settings (channels, prices, s3) take JSON, and S3 also has
 * REELAY_S3_ENDPOINT / _BUCKET / _REGION / _ACCESS_KEY_ID / _SECRET_ACCESS_KEY / _FORCE_PATH_STYLE / _PRESIGN / _PREFIX.
 */
import { ConfigError } from './configError.ts';

type Kind = 'string' | 'int' | 'bool' | 'list' | 'json' | 'intOrJson';

/** Scalar settings by path, with their kind. */
const SETTINGS: Record<string, Kind> = {
  host: 'string',
  port: 'int',
  public_url: 'string',
  data_dir: 'string',
  admin_token: 'string',
  log_level: 'string',
  role: 'string',
  database_url: 'string',
  database_pool_size: 'int',
  sqlite_synchronous: 'string',
  sqlite_cache_mib: 'int',
  sqlite_mmap_mib: 'int',
  redis_url: 'string',
  redis_prefix: 'string',
  signing_secret: 'string',
  sim_latency_ms: 'int',
  allow_private_hosts: 'list',
  channels: 'json',
  prices: 'json',
  's3.endpoint': 'string',
  's3.bucket': 'string',
  's3.region': 'string',
  's3.access_key_id': 'string',
  's3.secret_access_key': 'string',
  's3.force_path_style': 'bool',
  's3.presign': 'bool',
  's3.prefix': 'string',
  'limits.body_limit_bytes': 'int',
  'limits.upload_limit_bytes': 'int',
  'limits.max_queued': 'int',
  'limits.max_queued_per_model': 'intOrJson',
  'limits.default_rate_limit_rpm': 'int',
  'limits.default_max_concurrent_tasks': 'int',
  'retention.result_ttl_seconds': 'int',
  'retention.upload_ttl_seconds': 'int',
  'engine.max_in_flight': 'int',
  'engine.lease_ms': 'int',
  'engine.idle_sleep_ms': 'int',
  'engine.render_concurrency': 'int',
  'engine.max_result_bytes': 'int',
  'engine.max_submit_rounds': 'int',
  'engine.max_step_errors': 'int',
  'webhooks.timeout_ms': 'int',
  'webhooks.first_retry_ms': 'int',
  'webhooks.retry_window_seconds': 'int',
  idempotency_window_seconds: 'int',
  shutdown_drain_ms: 'int',
};

/** Names fixed by the contract for some settings. */
const ALIASES: Record<string, string> = { port: 'PORT', host: 'HOST' };

export function envName(setting: string): string {
  return ALIASES[setting] ?? `REELAY_${setting.replace(/\./g, '_').toUpperCase()}`;
}

export function envOverrides(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [setting, kind] of Object.entries(SETTINGS)) {
    const name = envName(setting);
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const value = parse(name, kind, raw);
    const parts = setting.split('.');
    let node = out;
    for (const p of parts.slice(0, -1)) node = (node[p] ??= {}) as Record<string, unknown>;
    node[parts[parts.length - 1]] = value;
  }
  return out;
}

function parse(name: string, kind: Kind, raw: string): unknown {
  switch (kind) {
    case 'string':
      return raw;
    case 'int': {
      if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError(`${name}: ${JSON.stringify(raw)} is not an integer`);
      return Number(raw);
    }
    case 'bool':
      if (/^(1|true|yes|on)$/i.test(raw)) return true;
      if (/^(0|false|no|off)$/i.test(raw)) return false;
      throw new ConfigError(`${name}: ${JSON.stringify(raw)} is not a boolean (true/false)`);
    case 'list':
      return raw.split(',').map((s) => s.trim()).filter(Boolean);
    case 'intOrJson':
      return /^\d+$/.test(raw.trim()) ? Number(raw) : parseJson(name, raw);
    case 'json':
      return parseJson(name, raw);
  }
}

function parseJson(name: string, raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch (e) {
    throw new ConfigError(`${name}: not valid JSON: ${(e as Error).message}`);
  }
}

export function settingNames(): string[] {
  return Object.keys(SETTINGS);
}
