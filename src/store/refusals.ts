/**
 * The checks a submit meets inside a store, under its key's lock: their refusals, one wording for every store
 * and every path through one (PostgreSQL checks submits one at a time and in batches), and the rule that
 * decides whether an Idempotency-Key's record still stands.
 */
import { ApiError } from '../errors.ts';
import { formatMoney } from '../billing/money.ts';

export function idempotencyKeyReused(): ApiError {
  return new ApiError('idempotency_key_reused', 'This Idempotency-Key was already used with a different request body; use a new key for a new request.');
}

/** `active`: the key's unfinished tasks, counted under its lock. */
export function concurrencyLimitReached(active: number): ApiError {
  return new ApiError('concurrency_limit_exceeded', `This key already has ${active} unfinished tasks, its limit; wait for one to finish.`, null, {
    'Retry-After': '5',
  });
}

/** `balanceMicros`: what the key had when the move was refused; `neededMicros`: what the move would take. */
export function insufficientBalance(balanceMicros: number, neededMicros: number): ApiError {
  return new ApiError('payment_required', `Insufficient balance: ${formatMoney(balanceMicros)} available, ${formatMoney(neededMicros)} needed.`);
}

/**
 * Whether an Idempotency-Key's record, made at `recordedAt`, still stands for a submit made at `submittedAt`
 * (ms): a repeat within the window replays it or is refused; after it, the key starts a new task.
 */
export function idempotencyRecordStands(recordedAt: number, submittedAt: number, windowMs: number): boolean {
  return recordedAt >= submittedAt - windowMs;
}
