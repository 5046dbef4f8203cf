/**
 * A token bucket: `ratePerSecond` tokens accrue up to `burst`. Used for per-channel submit (rpm) and poll
 * budgets. Time is passed in so callers and tests control it.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt = 0;

  constructor(
    readonly ratePerSecond: number,
    readonly burst: number,
  ) {
    this.tokens = burst;
  }

  private refill(now: number): void {
    if (this.updatedAt === 0) this.updatedAt = now;
    const elapsed = Math.max(0, now - this.updatedAt) / 1000;
    this.tokens = Math.min(this.burst, this.tokens + elapsed * this.ratePerSecond);
    this.updatedAt = now;
  }

  /** Tokens available now, without taking any. */
  peek(now: number): number {
    this.refill(now);
    return this.tokens;
  }

  /** Takes one token if there is one. */
  take(now: number): boolean {
    this.refill(now);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** When the next whole token will be there (now if one is). */
  nextTokenAt(now: number): number {
    this.refill(now);
    if (this.tokens >= 1) return now;
    return now + Math.ceil(((1 - this.tokens) / this.ratePerSecond) * 1000);
  }
}
