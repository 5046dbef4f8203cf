/**
 * Loads the configuration: defaults ← REELAY_CONFIG file (JSON or YAML) ← environment. Strings in the file
 * may refer to environment variables as ${NAME}, so secrets need not be written into it. Any problem stops
 * start-up with a message naming the setting.
 */
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { configSchema, type ReelayConfig } from './schema.ts';
import { envOverrides } from './env.ts';
import { ConfigError } from './configError.ts';

export { ConfigError };

export function loadConfig(env: NodeJS.ProcessEnv = process.env): ReelayConfig {
  let fromFile: Record<string, unknown> = {};
  const file = env.REELAY_CONFIG;
  if (file) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      throw new ConfigError(`REELAY_CONFIG: cannot read ${file}: ${(e as Error).message}`);
    }
    try {
      fromFile = (/\.ya?ml$/i.test(file) ? YAML.parse(text) : JSON.parse(text)) ?? {};
    } catch (e) {
      throw new ConfigError(`REELAY_CONFIG: ${file} is not valid ${/\.ya?ml$/i.test(file) ? 'YAML' : 'JSON'}: ${(e as Error).message}`);
    }
    if (typeof fromFile !== 'object' || Array.isArray(fromFile)) throw new ConfigError(`REELAY_CONFIG: ${file} must hold an object`);
    fromFile = interpolate(fromFile, env, '') as Record<string, unknown>;
  }
  const merged = deepMerge(fromFile, envOverrides(env));
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${settingName(i.path)}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const config = parsed.data;
  config.data_dir = path.resolve(config.data_dir);
  checkChannels(config);
  return config;
}

function settingName(p: PropertyKey[]): string {
  return p.map((s) => (typeof s === 'number' ? `[${s}]` : `.${String(s)}`)).join('').replace(/^\./, '') || '(root)';
}

function interpolate(v: unknown, env: NodeJS.ProcessEnv, at: string): unknown {
  if (typeof v === 'string') {
    return v.replace(/\$\{([A-Z0-9_]+)\}/g, (_, name: string) => {
      const value = env[name];
      if (value === undefined) throw new ConfigError(`${at || '(root)'}: environment variable ${name} is not set`);
      return value;
    });
  }
  if (Array.isArray(v)) return v.map((x, i) => interpolate(x, env, `${at}[${i}]`));
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, interpolate(x, env, at ? `${at}.${k}` : k)]));
  }
  return v;
}

function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && prev && typeof prev === 'object' && !Array.isArray(prev)
        ? deepMerge(prev as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}

function checkChannels(config: ReelayConfig): void {
  const names = new Set<string>();
  config.channels.forEach((c, i) => {
    const at = `channels[${i}] (${c.name})`;
    if (names.has(c.name)) throw new ConfigError(`${at}.name: another channel has this name`);
    names.add(c.name);
    if (c.poll_max_ms < c.poll_min_ms) throw new ConfigError(`${at}.poll_max_ms: must be at least poll_min_ms (${c.poll_min_ms})`);
    if (c.provider !== 'simulator' && c.provider !== 'vertex' && !c.api_key) {
      throw new ConfigError(`${at}.api_key: the ${c.provider} provider needs an API key (write \${ENV_VAR} to take it from the environment)`);
    }
    if (c.provider === 'vertex' && !c.credentials) {
      throw new ConfigError(`${at}.credentials: the vertex provider needs a service-account JSON (object or file path)`);
    }
  });
}
