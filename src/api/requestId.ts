/**
 * Request ids: the client's own `X-Request-Id` when it is a sane token, else `req_` + a ULID. Every log
 * line of a request and its answer's `x-request-id` header carry it.
 */
import { monotonicFactory } from 'ulid';
import { pooledRandom } from '../tasks/submit.ts';

const ulid = monotonicFactory(pooledRandom());
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

export function requestIdFor(given: string | string[] | undefined): string {
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : `req_${ulid()}`;
}
