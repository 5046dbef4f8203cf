/**
 * Per-key requests-per-minute limits. A key with limit N may make N requests in any burst and then one
 * every 60/N seconds (a token bucket refilled continuously), which is what "N per minute" promises without
 * the double burst of fixed windows. This in-process limiter serves one process; the Redis limiter
 * (same interface) shares the budget between processes.
 */
export interface RateDecision {
  allowed: boolean;
  /** Whole seconds until a request will be allowed again (for Retry-After). */
  retryAfterSeconds: number;
  remaining: number;
}

export interface RateLimiter {
  hit(keyId: string, limitPerMinute: number): Promise<RateDecision>;
  close?(): Promise<void>;
}

export class MemoryRateLimiter implements RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  async hit(keyId: string, limit: number): Promise<RateDecision> {
    const now = this.now();
    const perMs = limit / 60_000;
    const b = this.buckets.get(keyId) ?? { tokens: limit, at: now };
    b.tokens = Math.min(limit, b.tokens + (now - b.at) * perMs);
    b.at = now;
    this.buckets.set(keyId, b);
    if (this.buckets.size > 100_000) this.evictFull(now, perMs);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { allowed: true, retryAfterSeconds: 0, remaining: Math.floor(b.tokens) };
    }
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - b.tokens) / perMs / 1000)), remaining: 0 };
  }

  /** Buckets that have refilled completely carry no information; drop them to bound memory. */
  private evictFull(now: number, perMs: number): void {
    for (const [k, b] of this.buckets) if (b.tokens + (now - b.at) * perMs >= 60_000 * perMs) this.buckets.delete(k);
  }
}
