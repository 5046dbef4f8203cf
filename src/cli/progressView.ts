/**
 * How `reelay generate` shows a task while waiting: a live bar with status and time left on a terminal,
 * and one plain line per change otherwise (CI logs, pipes), where a redrawn bar would be noise.
 */
import cliProgress from 'cli-progress';
import type { Task } from '../../client/index.ts';

export interface ProgressView {
  update(task: Task): void;
  stop(): void;
}

export interface ProgressViewOptions {
  /** Where the bar is drawn (stderr, so stdout stays for results). */
  stream: NodeJS.WritableStream & { isTTY?: boolean };
  /** Plain-line output when the stream is not a terminal. */
  writeLine: (line: string) => void;
  now?: () => number;
}

export function createProgressView(opts: ProgressViewOptions): ProgressView {
  const now = opts.now ?? Date.now;
  return opts.stream.isTTY ? barView(opts.stream, now) : lineView(opts.writeLine, now);
}

function barView(stream: NodeJS.WritableStream, now: () => number): ProgressView {
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: '{task} {bar} {percentage}% | {status} | {remaining}',
      hideCursor: true,
      clearOnComplete: false,
      barsize: 30,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(task) {
      const payload = { task: task.id, status: task.status, remaining: remainingText(task, now()) };
      if (!started) {
        bar.start(100, task.progress, payload);
        started = true;
      } else bar.update(task.progress, payload);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

function lineView(writeLine: (line: string) => void, now: () => number): ProgressView {
  let last = '';
  return {
    update(task) {
      // Only changes are printed, so a slow task does not flood a log with identical lines.
      const key = `${task.status} ${task.progress}`;
      if (key === last) return;
      last = key;
      writeLine(`${task.id} ${task.status} ${task.progress}% ${remainingText(task, now())}`.trimEnd());
    },
    stop() {},
  };
}

/**
 * "ETA 1m58s" while running, "took 4m00s" once finished. Counted from the task's own created +
 * estimated_time rather than from when this CLI started, so it stays right when waiting on an old task.
 */
export function remainingText(task: Task, nowMs: number): string {
  if (task.status === 'completed' || task.status === 'failed' || task.status === 'cancelled') {
    return task.actual_time === undefined ? '' : `took ${formatSeconds(task.actual_time)}`;
  }
  const left = Math.round(task.created + task.estimated_time - nowMs / 1000);
  if (!Number.isFinite(left)) return 'ETA unknown';
  if (left <= 0) return 'ETA any moment';
  return `ETA ${formatSeconds(left)}`;
}

export function formatSeconds(s: number): string {
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
