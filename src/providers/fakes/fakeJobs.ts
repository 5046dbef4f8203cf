/**
 * The job lifecycle shared by the fake upstreams: a job is queued, then running, then done after
 * `latencyMs` — derived from the clock, so a fake holds 100,000 jobs for the cost of a Map. A prompt
 * containing "fake:fail" ends the job in failure with a reason in the upstream's own words.
 */
export type FakeJobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface FakeJob {
  id: string;
  createdAt: number;
  latencyMs: number;
  prompt: string;
  /** The request as the adapter sent it. */
  request: unknown;
  cancelledAt?: number;
  /** How many videos the job yields. */
  count: number;
}

export const FAKE_FAIL_MARKER = 'fake:fail';
export const FAKE_FAIL_REASON = 'the input was flagged by content moderation (fake upstream)';

export class FakeJobs {
  readonly jobs = new Map<string, FakeJob>();
  latencyMs = 60;
  private seq = 0;

  create(prompt: string, request: unknown, count = 1, idPrefix = 'job'): FakeJob {
    const job: FakeJob = { id: `${idPrefix}_${Date.now().toString(36)}_${(++this.seq).toString(36)}`, createdAt: Date.now(), latencyMs: this.latencyMs, prompt, request, count };
    this.jobs.set(job.id, job);
    return job;
  }

  get(id: string): FakeJob | undefined {
    return this.jobs.get(id);
  }

  state(job: FakeJob, now = Date.now()): FakeJobState {
    if (job.cancelledAt !== undefined) return 'cancelled';
    const elapsed = now - job.createdAt;
    if (elapsed < job.latencyMs * 0.3) return 'queued';
    if (elapsed < job.latencyMs) return 'running';
    return job.prompt.includes(FAKE_FAIL_MARKER) ? 'failed' : 'succeeded';
  }

  /** 0–100 while running. */
  progress(job: FakeJob, now = Date.now()): number {
    return Math.min(100, Math.floor(((now - job.createdAt) / Math.max(1, job.latencyMs)) * 100));
  }

  /** Cancels a job that has not finished; false if it already had. */
  cancel(job: FakeJob, now = Date.now()): boolean {
    const s = this.state(job, now);
    if (s === 'succeeded' || s === 'failed') return false;
    job.cancelledAt ??= now;
    return true;
  }
}
