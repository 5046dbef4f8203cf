/**
 * Issue 5 §4 — validation only: bodies that break a model's rules (bad duration, resolution, types,
 * missing fields, exclusive media, unknown model ...), each refused with 400 before anything is stored.
 * Target: ≥ 0.6 of the baseline.
 */
import { INVALID_BODIES } from './lib/bodies.ts';
import { httpScenario, type HttpOutcome, type Targets, type Timing } from './http.ts';

export const VALIDATION_TARGET = { ratio: 0.6 };

export function validationRequests(key: string) {
  return INVALID_BODIES.map((b) => ({
    method: 'POST' as const,
    path: '/v1/videos/generations',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(b),
  }));
}

export function validationScenario(urls: Targets, key: string, timing: Timing): Promise<HttpOutcome> {
  return httpScenario('validation', urls, validationRequests(key), 400, VALIDATION_TARGET, timing);
}
