/**
 * Submits that must be checked under their key's lock, checked and written together: those with an
 * Idempotency-Key (the SDK sends one with every submit) and those of a key with a concurrency limit.
 * HeldTaskBatches cannot take them: its one statement checks only the balance, and a statement's snapshot is
 * taken before it waits for a lock, so an idempotency record or an unfinished task committed by the submit
 * it waited for would be missed.
 *
 * One batch is one transaction, however many submits and keys it holds:
 *  1. lock the batch's key rows in id order and read their balances (the lock every money move takes, and
 *     INSERT_HELD_TASKS's order, so batches queue on each other rather than deadlock);
 *  2. then, each statement on a snapshot taken after the locks, read the Idempotency-Keys' records (and the
 *     tasks they could replay) and count the limited keys' unfinished tasks;
 *  3. go through the submits in the order they arrived, as one-at-a-time transactions would: a replay, a
 *     refusal (reused key, limit, balance) or a new task, each new task taking its hold from the balance and
 *     counting as unfinished for the submits after it;
 *  4. write the new tasks with their holds (INSERT_HELD_TASKS, which the locked balances now always cover)
 *     and their Idempotency-Keys, then commit.
 * Answers go out only after the commit. The second use of an Idempotency-Key waits for the next batch, which
 * then sees the first's record, so a batch never holds a pair twice. A batch whose transaction fails before
 * its commit (one task's text refused by PostgreSQL, say) is done again one submit at a time, each with its
 * own answer; one whose COMMIT got no answer may have been written, and is not done again.
 * About six round trips a batch, against six or seven for each submit alone.
 */
import type { ApiError } from '../../errors.ts';
import { holdMove } from '../../billing/settlement.ts';
import type { NewTask, TaskRecord } from '../../tasks/task.ts';
import { newTaskRecord, toTask } from '../rows.ts';
import { concurrencyLimitReached, idempotencyKeyReused, idempotencyRecordStands, insufficientBalance } from '../refusals.ts';
import type { CreateTaskOptions, CreateTaskResult } from '../types.ts';
import { idempotencyOfPairs, idempotencyPair, idempotencyPut, lockKeys, type IdempotencyRecord, type Move } from './queries.ts';
import { countActiveOfKeys, insertHeldTasks, tasksByIds } from './taskQueries.ts';
import { MAX_BATCH, SerialBatches } from './serialBatches.ts';
import { refusedByServer, type Db, type InTransaction } from './transaction.ts';

interface Waiting {
  input: NewTask;
  opts: CreateTaskOptions;
  done: (r: CreateTaskResult) => void;
  fail: (e: unknown) => void;
}

type Outcome = { result: CreateTaskResult } | { refused: ApiError };

export class CheckedTaskBatches extends SerialBatches<Waiting> {
  /** `alone`: the one-submit transaction, for the submits of a batch whose transaction failed. */
  constructor(
    private readonly inTransaction: InTransaction,
    private readonly alone: (input: NewTask, opts: CreateTaskOptions) => Promise<CreateTaskResult>,
  ) {
    super();
  }

  create(input: NewTask, opts: CreateTaskOptions): Promise<CreateTaskResult> {
    return new Promise<CreateTaskResult>((done, fail) => this.enqueue({ input, opts, done, fail }));
  }

  /** The first waiting submits up to MAX_BATCH, ending before an Idempotency-Key the batch already holds. */
  protected override nextBatchLength(): number {
    const pairs = new Set<string>();
    let n = 0;
    for (; n < this.waiting.length && n < MAX_BATCH; n++) {
      const w = this.waiting[n];
      if (!w.opts.idempotency) continue;
      const pair = idempotencyPair(w.input.keyId, w.opts.idempotency.key);
      if (pairs.has(pair)) break;
      pairs.add(pair);
    }
    return n;
  }

  protected async write(batch: Waiting[]): Promise<void> {
    let outcomes: Outcome[];
    /** The last attempt's statements all succeeded, so what failed was its COMMIT. */
    let committing = false;
    try {
      outcomes = await this.inTransaction(async (tx) => {
        committing = false;
        const checked = await checkAndWrite(tx, batch);
        committing = true;
        return checked;
      });
    } catch (e) {
      if (committing && !refusedByServer(e)) {
        // The answer to COMMIT was lost: the batch may have been written, and doing it again could hold a
        // price twice, so every submit fails as a single one would (a retry with its Idempotency-Key is safe).
        for (const w of batch) w.fail(e);
        return;
      }
      // Nothing was committed: each submit again on its own, so only one PostgreSQL refuses gets an error.
      for (const w of batch) {
        try {
          w.done(await this.alone(w.input, w.opts));
        } catch (e) {
          w.fail(e);
        }
      }
      return;
    }
    outcomes.forEach((o, i) => ('refused' in o ? batch[i].fail(o.refused) : batch[i].done(o.result)));
  }
}

/** Steps 1–4 above, inside the batch's transaction; the outcomes in the batch's order. */
async function checkAndWrite(tx: Db, batch: readonly Waiting[]): Promise<Outcome[]> {
  const balances = await lockKeys(tx, [...new Set(batch.map((w) => w.input.keyId))]);
  const keyed = batch.filter((w) => w.opts.idempotency);
  const records = keyed.length > 0 ? await idempotencyOfPairs(tx, keyed.map((w) => [w.input.keyId, w.opts.idempotency!.key] as const)) : new Map();
  const limited = [...new Set(batch.filter((w) => w.opts.maxConcurrentTasks !== null).map((w) => w.input.keyId))];
  const active = limited.length > 0 ? await countActiveOfKeys(tx, limited) : new Map<string, number>();
  for (const keyId of limited) if (!active.has(keyId)) active.set(keyId, 0);

  // Each submit's record that still stands: the one it would replay or be refused by.
  const standing = batch.map((w) => {
    const idem = w.opts.idempotency;
    const record = idem && records.get(idempotencyPair(w.input.keyId, idem.key));
    return record && idempotencyRecordStands(Number(record.created_at), w.input.createdAt, idem.windowMs) ? record : undefined;
  });
  // The tasks that submits repeating an earlier one (same key, same body, within the window) get back.
  const earlierIds = batch.flatMap((w, i) => {
    const r = standing[i];
    return r && r.request_hash === w.opts.idempotency!.requestHash ? [String(r.task_id)] : [];
  });
  const earlier = earlierIds.length > 0 ? await tasksByIds(tx, earlierIds) : new Map();

  const outcomes: Outcome[] = [];
  const held: { task: TaskRecord; hold: Move }[] = [];
  const keys: IdempotencyRecord[] = [];
  for (const [i, w] of batch.entries()) {
    const { input, opts } = w;
    const record = standing[i];
    if (record) {
      if (record.request_hash !== opts.idempotency!.requestHash) {
        outcomes.push({ refused: idempotencyKeyReused() });
        continue;
      }
      const task = earlier.get(String(record.task_id));
      if (task) {
        outcomes.push({ result: { task: toTask(task), replayed: true } });
        continue;
      }
    }
    const unfinished = active.get(input.keyId);
    if (opts.maxConcurrentTasks !== null && unfinished! >= opts.maxConcurrentTasks) {
      outcomes.push({ refused: concurrencyLimitReached(unfinished!) });
      continue;
    }
    const task = newTaskRecord(input);
    const hold = holdMove(task.priceMicros);
    const balance = balances.get(input.keyId);
    // A key that does not exist has nothing to take a hold from, as the guarded UPDATE finds.
    if (balance === undefined || balance + hold.balanceDelta < 0) {
      outcomes.push({ refused: insufficientBalance(balance ?? 0, -hold.balanceDelta) });
      continue;
    }
    balances.set(input.keyId, balance + hold.balanceDelta);
    if (unfinished !== undefined) active.set(input.keyId, unfinished + 1);
    held.push({ task, hold });
    if (opts.idempotency) keys.push({ keyId: input.keyId, idemKey: opts.idempotency.key, requestHash: opts.idempotency.requestHash, taskId: task.id, at: input.createdAt });
    outcomes.push({ result: { task, replayed: false } });
  }

  if (held.length > 0) {
    const { written } = await insertHeldTasks(tx, held);
    // The balances were read under the locks this transaction still holds, so every hold is covered.
    if (written.size !== held.length) throw new Error(`a checked batch wrote ${written.size} of its ${held.length} tasks`);
  }
  if (keys.length > 0) await idempotencyPut(tx, keys);
  return outcomes;
}
