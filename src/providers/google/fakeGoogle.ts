/**
 * What the fake Gemini and Vertex upstreams share: Google's error body, and how a fake Veo job ends. Besides
 * the shared "fake:fail" (an rpc error in the operation), a prompt containing "fake:rai" finishes with every
 * video removed by Responsible-AI filtering, as Google reports it (no samples, raiMediaFilteredCount and
 * raiMediaFilteredReasons); "fake:rai-partial" removes only one of several.
 */
import { FAKE_FAIL_REASON, type FakeJob, type FakeJobs } from '../fakes/fakeJobs.ts';
import type { FakeResponse } from '../fakes/fakeServer.ts';

export const FAKE_RAI_MARKER = 'fake:rai';
export const FAKE_RAI_PARTIAL_MARKER = 'fake:rai-partial';
// Worded like the reasons Vertex documents for its safety filters (responsible-ai-and-usage-guidelines).
export const FAKE_RAI_REASON =
  "Veo could not generate videos because the input image violates Vertex AI's usage guidelines. If you think this was an error, send feedback. Support codes: 15236754";

const HTTP_STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};

/** `{"error": {code, message, status, details?}}` as Google's APIs answer errors. */
export function googleError(code: number, message: string, reason?: string): FakeResponse & { status: number } {
  const details = reason ? [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason, domain: 'googleapis.com' }] : undefined;
  return { status: code, body: { error: { code, message, status: HTTP_STATUS_NAMES[code] ?? 'UNKNOWN', ...(details ? { details } : {}) } } };
}

export type FakeVeoEnd =
  | { pending: true; running: boolean }
  | { error: { code: number; message: string } }
  /** `videos` delivered and `filtered` removed by the safety filters. */
  | { videos: number; filtered: number };

/** The state of a fake Veo job now, in the terms both fakes render. */
export function fakeVeoEnd(jobs: FakeJobs, job: FakeJob): FakeVeoEnd {
  const state = jobs.state(job);
  if (state === 'queued' || state === 'running') return { pending: true, running: state === 'running' };
  // google.rpc.Code 3 = INVALID_ARGUMENT, as a prompt rejected after submission is reported.
  if (state === 'failed') return { error: { code: 3, message: FAKE_FAIL_REASON } };
  if (job.prompt.includes(FAKE_RAI_PARTIAL_MARKER)) return { videos: job.count - 1, filtered: 1 };
  if (job.prompt.includes(FAKE_RAI_MARKER)) return { videos: 0, filtered: job.count };
  return { videos: job.count, filtered: 0 };
}
