/**
 * Unfinished-task counts for the queue limits, read from the store only when a count might have gone stale
 * enough to matter: a submit must not pay for a count over a large queue (with 100,000 unfinished tasks a
 * SQLite count takes ~6 ms, and was taken 8 times every 250 ms under load — docs/decisions/0012-performance.md).
 *
 * A count is re-read once it is 250 ms old — or, while the queue is far from its limit, once the queue
 * could have grown past the limit at FILL_PER_SECOND submits a second, but never later than 5 s. Near the
 * limit it is a quarter-second stale at most, as before, so the limit still bounds the queue.
 *
 * While a count is being read (on the embedded store, on a thread of its own: 6–9 ms with 175,000–250,000
 * unfinished tasks) the previous one still serves, older by those few milliseconds, instead of every
 * submit of those milliseconds waiting for it. Only the very first count is waited for.
 */
import type { Store } from '../store/types.ts';

const FRESH_MS = 250;
const STALEST_MS = 5_000;
/** Faster than any one process accepts tasks (and the limits are checked per process). */
const FILL_PER_SECOND = 20_000;

interface Slot {
  n: number;
  at: number;
  pending?: Promise<number>;
}

export class QueueGauge {
  private all: Slot = { n: 0, at: 0 };
  private readonly models = new Map<string, Slot>();

  constructor(private readonly store: Store) {}

  /**
   * Unfinished tasks in all; `limit` is the limit they are compared with (it decides how stale is safe).
   * A count still fresh is returned as it is, without a promise: that is nearly every submit.
   */
  total(limit = 0): number | Promise<number> {
    return this.read(this.all, limit, () => this.store.countUnfinished());
  }

  ofModel(model: string, limit = 0): number | Promise<number> {
    let slot = this.models.get(model);
    if (!slot) this.models.set(model, (slot = { n: 0, at: 0 }));
    return this.read(slot, limit, () => this.store.countUnfinished(model));
  }

  private read(slot: Slot, limit: number, count: () => Promise<number>): number | Promise<number> {
    const headroom = limit - slot.n;
    const maxAge = Math.min(STALEST_MS, Math.max(FRESH_MS, (headroom * 1000) / FILL_PER_SECOND));
    if (Date.now() - slot.at < maxAge) return slot.n;
    if (slot.pending && slot.at > 0) return slot.n;
    return this.refresh(slot, count);
  }

  private async refresh(slot: Slot, count: () => Promise<number>): Promise<number> {
    slot.pending ??= count().finally(() => (slot.pending = undefined));
    slot.n = await slot.pending;
    slot.at = Date.now();
    return slot.n;
  }
}
