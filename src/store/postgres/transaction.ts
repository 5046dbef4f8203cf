/**
 * Connections and transactions of the PostgreSQL store: a `Db` the SQL functions run on (the pool for a
 * single statement, a checked-out client inside a transaction), and `transaction()`, which runs a function
 * between BEGIN and COMMIT at READ COMMITTED and runs it again when PostgreSQL says that may succeed.
 */
import pg from 'pg';
import { ApiError } from '../../errors.ts';

export type Row = Record<string, unknown>;

export interface Db {
  /**
   * `prepared`: a name under which each connection parses and plans the statement once and then only binds
   * and runs it. Only for fixed statements that name their columns: a prepared `SELECT *` or `RETURNING *`
   * fails ("cached plan must not change result type") once a migration run by a newer process adds a column.
   */
  query(text: string, values?: unknown[], prepared?: string): Promise<{ rows: Row[]; rowCount: number | null }>;
}

/** Runs `fn` in one transaction (run again from the start after a deadlock or serialization failure). */
export type InTransaction = <T>(fn: (tx: Db) => Promise<T>) => Promise<T>;

/** Deadlock and serialization failures: the transaction was rolled back and may simply be run again. */
const RETRYABLE_STATES = new Set(['40001', '40P01']);
const MAX_ATTEMPTS = 5;

function sqlState(e: unknown): { code?: string; constraint?: string } {
  return typeof e === 'object' && e !== null ? (e as { code?: string; constraint?: string }) : {};
}

/**
 * SQLite stores any text; PostgreSQL refuses NUL characters in TEXT (22021) and \u0000 in JSONB (22P05).
 * Such a request is the client's doing, so it gets a 400 rather than an internal error.
 */
function translate(e: unknown): unknown {
  const { code } = sqlState(e);
  if (code === '22021' || code === '22P05') {
    return new ApiError('invalid_value', 'A text field contains a NUL (\\u0000) character, which cannot be stored; remove it.');
  }
  return e;
}

/**
 * Whether PostgreSQL itself answered with an error (or one translated from such): the statement, and the
 * transaction it ran in, then wrote nothing. Any other failure (the connection lost mid-statement, say) leaves
 * it unknown whether a commit happened, so the writes in it must not be done again.
 */
export function refusedByServer(e: unknown): boolean {
  return e instanceof pg.DatabaseError || e instanceof ApiError;
}

/** Wraps a pool or client so every error leaves it translated. */
export function db(target: pg.Pool | pg.PoolClient): Db {
  return {
    query: (text, values, prepared) =>
      (prepared ? target.query({ name: prepared, text, values }) : target.query(text, values)).then(
        (r) => ({ rows: r.rows as Row[], rowCount: r.rowCount }),
        (e: unknown) => {
          throw translate(e);
        },
      ),
  };
}

/**
 * Runs `fn` in one transaction. It is run again (from BEGIN, on a fresh snapshot) after a deadlock or
 * serialization failure, and after a unique violation of one of `retryOn` — a concurrent transaction inserted
 * the same row first, and the next attempt will see it (how racing Idempotency-Keys become replays).
 */
export async function transaction<T>(pool: pg.Pool, fn: (tx: Db) => Promise<T>, retryOn: readonly string[] = []): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const value = await fn(db(client));
      await client.query('COMMIT');
      return value;
    } catch (e) {
      await client.query('ROLLBACK').catch((r: Error) => (broken = r));
      const { code, constraint } = sqlState(e);
      const again = RETRYABLE_STATES.has(code ?? '') || (code === '23505' && constraint !== undefined && retryOn.includes(constraint));
      if (!again || attempt >= MAX_ATTEMPTS) throw e;
    } finally {
      // A client whose ROLLBACK failed is in an unknown state: destroy it rather than return it to the pool.
      client.release(broken);
    }
    // Spread retries of transactions that deadlocked on each other so they do not collide again.
    await new Promise((r) => setTimeout(r, Math.random() * 5 * attempt));
  }
}
