/**
 * API keys: minted once and shown once; stored only as a SHA-256 hash (keys are 256-bit random, so a fast
 * hash is enough — no password hashing needed). Lookups are cached for a few seconds so a poll does not
 * read the key row each time; a revoke in this process drops the cache entry at once.
 *
 * The cache is keyed by the bearer token itself, not its hash: hashing it on every request was a few
 * percent of a poll (docs/decisions/0012-performance.md). The token is in this process's memory with each
 * request that carries it anyway; an entry unused for a minute is swept, so a token no client sends any
 * more does not stay.
 */
import crypto from 'node:crypto';
import { monotonicFactory } from 'ulid';
import type { ApiKeyRecord, Store } from '../store/types.ts';

const ulid = monotonicFactory();
const KEY_PREFIX = 'rk_';
const CACHE_MS = 5_000;
/** How often expired cache entries are dropped (on a lookup that reads the store). */
const SWEEP_MS = 60_000;

/** authenticateCached: the store must be asked. */
export const MISS: unique symbol = Symbol('not cached');

// crypto.hash (Node ≥ 20.12) is the one-shot form: no Hash object per call.
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;

export function hashKey(plain: string): string {
  return oneShot ? oneShot('sha256', plain, 'hex') : crypto.createHash('sha256').update(plain).digest('hex');
}

export interface CreateKeyInput {
  name: string;
  balanceMicros?: number;
  rateLimitRpm?: number | null;
  maxConcurrentTasks?: number | null;
  models?: string[] | null;
}

export class ApiKeys {
  private readonly cache = new Map<string, { key: ApiKeyRecord | undefined; at: number; hash: string }>();
  private sweptAt = Date.now();

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
    const cached = this.authenticateCached(token);
    if (cached !== MISS) return cached;
    const hash = hashKey(token);
    const key = await this.store.findKeyByHash(hash);
    const now = Date.now();
    if (this.cache.size > 10_000) this.cache.clear();
    else if (now - this.sweptAt > SWEEP_MS) this.sweep(now);
    this.cache.set(token, { key, at: now, hash });
    return key && key.revokedAt === null ? key : undefined;
  }

  /**
   * The same answer as `authenticate` when it needs no store read (a malformed token, or a lookup cached in
   * the last few seconds), without waiting; MISS when the store must be asked.
   */
  authenticateCached(token: string): ApiKeyRecord | undefined | typeof MISS {
    if (!token.startsWith(KEY_PREFIX) || token.length > 200) return undefined;
    const hit = this.cache.get(token);
    if (!hit || Date.now() - hit.at >= CACHE_MS) return MISS;
    return hit.key && hit.key.revokedAt === null ? hit.key : undefined;
  }

  /** Drops cached lookups (after a revoke or a change of limits). */
  forget(hash?: string): void {
    if (!hash) return this.cache.clear();
    for (const [token, entry] of this.cache) if (entry.hash === hash) this.cache.delete(token);
  }

  private sweep(now: number): void {
    this.sweptAt = now;
    for (const [token, entry] of this.cache) if (now - entry.at >= CACHE_MS) this.cache.delete(token);
  }
}
