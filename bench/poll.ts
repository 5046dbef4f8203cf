/**
 * Issue 5 §3 — poll: GET /v1/tasks/{id} over existing tasks (100,000 in the main stage: 90% completed
 * with result URLs to sign, 5% failed, 5% pending), ids in a fixed shuffled order. Target: ≥ 0.5 of the
 * baseline; p99 ≤ 5 ms.
 */
import { httpScenario, type HttpOutcome, type Targets, type Timing } from './http.ts';

export const POLL_TARGET = { ratio: 0.5, p99Ms: 5 };

/** One request, its `{id}` taken in turn from the ids file of the load. */
export function pollRequests(key: string) {
  return [{ method: 'GET' as const, path: '/v1/tasks/{id}', headers: { authorization: `Bearer ${key}` } }];
}

export function pollScenario(urls: Targets, key: string, idsFile: string, timing: Timing, name = 'poll'): Promise<HttpOutcome> {
  return httpScenario(name, urls, pollRequests(key), 200, POLL_TARGET, timing, { idsFile });
}
