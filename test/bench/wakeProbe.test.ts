/** The cross-CPU wake-up probe (bench/lib/wakeProbe.ts): both placements measured, in plausible units. */
import { describe, expect, it } from 'vitest';
import { placement } from '../../bench/lib/cpuPlacement.ts';
import { wakeProbe } from '../../bench/lib/wakeProbe.ts';

const pinning = !placement().startsWith('not pinned');

describe('wakeProbe', () => {
  it.runIf(pinning)('times round trips across the CPUs and on one, with the pinger’s CPU per round trip', async () => {
    const r = await wakeProbe(300);
    expect(r).not.toBeNull();
    expect(r!.roundTrips).toBe(300);
    for (const side of [r!.across, r!.together]) {
      // A loopback round trip between two Node processes takes microseconds to milliseconds, never nothing.
      expect(side.p50).toBeGreaterThan(1);
      expect(side.p50).toBeLessThan(50_000);
      expect(side.p99).toBeGreaterThanOrEqual(side.p50);
      expect(side.cpu).toBeGreaterThan(0);
    }
  }, 60_000);

  it.runIf(!pinning)('is skipped where the benchmark places nothing', async () => {
    expect(await wakeProbe(10)).toBeNull();
  });
});
