/**
 * The queue limits' counts (src/tasks/queueGauge.ts): read when stale, and while a read is on its way the
 * previous count serves, so submits do not wait for a count over a long queue.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { QueueGauge } from '../../src/tasks/queueGauge.ts';
import type { Store } from '../../src/store/types.ts';

/** A store whose counts resolve when the test says so. */
function countingStore() {
  const reads: { model?: string; resolve(n: number): void }[] = [];
  const store = {
    countUnfinished: (model?: string) => new Promise<number>((resolve) => reads.push({ model, resolve })),
  } as unknown as Store;
  return { store, reads };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('QueueGauge', () => {
  it('waits for the first count, serves it while fresh, and the previous one while a new read is on its way', async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const { store, reads } = countingStore();
    const gauge = new QueueGauge(store);

    const first = gauge.total(100);
    expect(first).toBeInstanceOf(Promise);
    reads[0].resolve(90);
    expect(await first).toBe(90);

    // Fresh: no read, no promise.
    vi.advanceTimersByTime(100);
    expect(gauge.total(100)).toBe(90);
    expect(reads).toHaveLength(1);

    // Stale (near the limit: a quarter second): one new read; meanwhile the last count answers at once.
    vi.advanceTimersByTime(200);
    const refreshing = gauge.total(100);
    expect(refreshing).toBeInstanceOf(Promise);
    expect(reads).toHaveLength(2);
    expect(gauge.total(100)).toBe(90);
    expect(gauge.total(100)).toBe(90);
    expect(reads).toHaveLength(2);
    reads[1].resolve(100);
    expect(await refreshing).toBe(100);
    expect(gauge.total(100)).toBe(100);
  });

  it('keeps one slot per model, each read for its own model', async () => {
    const { store, reads } = countingStore();
    const gauge = new QueueGauge(store);
    const a = gauge.ofModel('viduq3', 10);
    const b = gauge.ofModel('happyhorse-1.0', 10);
    expect(reads.map((r) => r.model)).toEqual(['viduq3', 'happyhorse-1.0']);
    reads[0].resolve(3);
    reads[1].resolve(7);
    expect([await a, await b]).toEqual([3, 7]);
  });
});
