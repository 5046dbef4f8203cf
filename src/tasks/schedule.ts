/**
 * Timing policy of the engine: how often to poll an upstream job as it ages, how long to back off after
 * errors, and how to show progress when the upstream gives none.
 */
import type { Channel } from '../channels/router.ts';
import type { TaskRecord } from './task.ts';

/** ±20% jitter so tasks submitted together do not poll together forever. */
function jitter(ms: number, random = Math.random): number {
  return Math.round(ms * (0.8 + 0.4 * random()));
}

/**
 * Poll interval for a task: the channel's minimum at first, growing by a tenth of the task's age, capped
 * at the channel's maximum. A 3-minute job on a 2 s / 15 s channel is checked about every 2–15 s.
 */
export function nextPollDelay(task: TaskRecord, channel: Channel, now: number): number {
  const { pollMinMs, pollMaxMs } = channel.settings;
  const age = now - (task.upstream?.startedAt ?? task.createdAt);
  return jitter(Math.min(pollMaxMs, pollMinMs + age * 0.1));
}

/** Back-off after the n-th consecutive error: 2 s, 4 s, 8 s ... capped at 2 minutes, with jitter. */
export function retryDelay(n: number): number {
  return jitter(Math.min(120_000, 1000 * 2 ** Math.max(1, n)));
}

/**
 * Progress shown to clients: the upstream's own figure when it gives one, else time elapsed against the
 * expected duration, approaching but never reaching 95 until the result is in. The store keeps it monotonic.
 */
export function estimateProgress(task: TaskRecord, upstreamProgress: number | undefined, now: number): number {
  if (upstreamProgress !== undefined && Number.isFinite(upstreamProgress)) return Math.max(1, Math.min(98, Math.round(upstreamProgress)));
  const started = task.upstream?.startedAt ?? task.createdAt;
  const expectedMs = Math.max(1, task.estimatedSeconds) * 1000;
  const fraction = (now - started) / expectedMs;
  return Math.max(1, Math.min(95, Math.round(95 * (1 - Math.exp(-2 * fraction)))));
}
