/**
 * A generic poll loop (openai-node's lib/polling idea): ask, report, stop when done, otherwise wait and
 * ask again, within an overall deadline and an AbortSignal. Tasks use it; anything else with a status
 * endpoint can too.
 */
import { sleep } from './core.ts';

export interface PollOptions<T> {
  /** Reads the current state once. */
  read: (signal?: AbortSignal) => Promise<T>;
  isDone: (value: T) => boolean;
  /** Pause between reads; default 5000 ms (the seed documents recommend polling every 5–10 s). */
  intervalMs?: number;
  /** Overall deadline; default none. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Called with every value read, including the last. */
  onUpdate?: (value: T) => void;
  /** The error thrown at the deadline, given the last value read. */
  onTimeout: (last: T | undefined, timeoutMs: number) => Error;
}

export async function poll<T>(opts: PollOptions<T>): Promise<T> {
  const interval = opts.intervalMs ?? 5000;
  const deadline = opts.timeoutMs === undefined ? Infinity : Date.now() + opts.timeoutMs;
  let last: T | undefined;
  for (;;) {
    opts.signal?.throwIfAborted();
    last = await opts.read(opts.signal);
    opts.onUpdate?.(last);
    if (opts.isDone(last)) return last;
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw opts.onTimeout(last, opts.timeoutMs ?? 0);
    // Never sleep past the deadline: one last read happens right at it.
    await sleep(Math.min(interval, remaining), opts.signal);
  }
}
