/**
 * API keys: minted once and shown once; stored only as a SHA-256 hash (keys are 256-bit random, so a fast
 * hash is enough — no password hashing needed). Lookups are cached for a few seconds so a poll does not
 * read the key row each time; a revoke in this process drops the cache entry at once.
 */
import crypto from 'node:crypto';
import { monotonicFactory } from 'ulid';
import type { ApiKeyRecord, Store } from '../store/types.ts';

const ulid = monotonicFactory();
const KEY_PREFIX = 'rk_';
const CACHE_MS = 5_000;

export function hashKey(plain: string): string {
  return crypto.createHash('sha256').update(plain).digest('hex');
}

export interface CreateKeyInput {
  name: string;
  balanceMicros?: number;
  rateLimitRpm?: number | null;
  maxConcurrentTasks?: number | null;
  models?: string[] | null;
}

export class ApiKeys {
  private readonly cache = new Map<string, { key: ApiKeyRecord | undefined; at: number }>();

  constructor(private readonly store: Store) {}

  /** Creates a key; the plain key is returned here and never again. */
  async create(input: CreateKeyInput): Promise<{ record: ApiKeyRecord; key: string }> {
    const plain = KEY_PREFIX + crypto.randomBytes(32).toString('base64url');
    const record = await this.store.createKey({
      id: `key_${ulid()}`,
      name: input.name,
      prefix: plain.slice(0, 10),
      hash: hashKey(plain),
      balanceMicros: input.balanceMicros ?? 0,
      rateLimitRpm: input.rateLimitRpm ?? null,
      maxConcurrentTasks: input.maxConcurrentTasks ?? null,
      models: input.models ?? null,
      webhookSecret: `whsec_${crypto.randomBytes(24).toString('base64url')}`,
      createdAt: Date.now(),
    });
    return { record, key: plain };
  }

  /** The active key for a bearer token, or undefined (unknown or revoked). */
  async authenticate(token: string): Promise<ApiKeyRecord | undefined> {
    if (!token.startsWith(KEY_PREFIX) || token.length > 200) return undefined;
    const hash = hashKey(token);
    const now = Date.now();
    const hit = this.cache.get(hash);
    let key = hit && now - hit.at < CACHE_MS ? hit.key : undefined;
    if (!hit || now - hit.at >= CACHE_MS) {
      key = await this.store.findKeyByHash(hash);
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(hash, { key, at: now });
    }
    return key && key.revokedAt === null ? key : undefined;
  }

  /** Drops cached lookups (after a revoke or a change of limits). */
  forget(hash?: string): void {
    if (hash) this.cache.delete(hash);
    else this.cache.clear();
  }
}
