/**
 * Issue 5 §2 — submit: POST /v1/videos/generations with the seed documents' bodies for all seven models,
 * durable (SQLite synchronous=FULL, committed before the answer). Target: ≥ 0.25 of the baseline's
 * requests per second; p99 ≤ 10 ms.
 */
import { VALID_BODIES } from './lib/bodies.ts';
import { httpScenario, type HttpOutcome, type Targets, type Timing } from './http.ts';

export const SUBMIT_TARGET = { ratio: 0.25, p99Ms: 10 };

export function submitRequests(key: string) {
  return VALID_BODIES.map((b) => ({
    method: 'POST' as const,
    path: '/v1/videos/generations',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(b),
  }));
}

/**
 * The same submits, each with an Idempotency-Key of its own, as the SDK sends with every submit
 * (client/resources/videos.ts): each is a new task and an idempotency record, not a replay.
 */
export function keyedSubmitRequests(key: string) {
  return submitRequests(key).map((r) => ({ ...r, uniqueHeader: 'idempotency-key' }));
}

/**
 * Refuses a keyed run unless every submit it answered wrote a new task and its record: a replay is answered
 * 200 too, and a run whose keys repeated would have measured replays, not submits.
 */
export function checkKeyedRun(answered: number, written: { tasks: number; records: number }): void {
  if (written.tasks < answered || written.records !== written.tasks) {
    throw new Error(`the Idempotency-Key run answered ${answered} submits but wrote ${written.tasks} tasks and ${written.records} records: not every request was new`);
  }
}

export function submitScenario(urls: Targets, key: string, timing: Timing, name = 'submit'): Promise<HttpOutcome> {
  return httpScenario(name, urls, submitRequests(key), 200, SUBMIT_TARGET, timing);
}
