/**
 * PostgreSQL for tests: a throwaway database per test (or per file), dropped afterwards.
 *
 * The server is REELAY_TEST_POSTGRES_URL (default: the local trust-auth server). In CI these tests must
 * run, so an unreachable server fails the file loudly; elsewhere the tests are skipped with a message.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeEach, describe, it } from 'vitest';
import { PostgresStore } from '../../src/store/postgres/pgStore.ts';
import { transaction, type Db, type InTransaction } from '../../src/store/postgres/transaction.ts';

export const ADMIN_URL = process.env.REELAY_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 5000 });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** True if the server answers; throws in CI when it does not. */
export async function postgresReachable(): Promise<boolean> {
  try {
    await admin((c) => c.query('SELECT 1'));
    return true;
  } catch (e) {
    const why = `PostgreSQL is unreachable at ${ADMIN_URL}: ${(e as Error).message}`;
    if (process.env.CI) throw new Error(`${why} — CI is set, so the PostgreSQL tests must run, not skip.`);
    console.warn(`${why} — skipping the PostgreSQL tests (they fail instead when CI is set).`);
    return false;
  }
}

/** Registers a visibly skipped suite in place of one that needs PostgreSQL. */
export function skipWithoutPostgres(name: string): void {
  describe.skip(`${name} (skipped: PostgreSQL unreachable at ${ADMIN_URL}; set REELAY_TEST_POSTGRES_URL)`, () => {
    it('needs PostgreSQL', () => undefined);
  });
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** `icuLocale` makes the database's default collation a natural-language one (e.g. 'en-US'), as many servers have. */
export async function createTestDatabase(opts: { icuLocale?: string } = {}): Promise<TestDatabase> {
  const name = `reelay_test_${randomBytes(6).toString('hex')}`;
  const locale = opts.icuLocale ? ` TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE '${opts.icuLocale.replace(/[^A-Za-z0-9-]/g, '')}'` : '';
  await admin(async (c) => {
    await c.query(`CREATE DATABASE ${name}${locale}`);
    // Commits need not wait for the WAL flush: a test database need not survive a power cut, and locking and
    // visibility — what the tests are about — are the same (as the SQLite tests run with synchronous=NORMAL).
    await c.query(`ALTER DATABASE ${name} SET synchronous_commit = off`);
  });
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: () =>
      admin(async (c) => {
        // pg's pool.end() resolves before its sockets have closed; ending those from the server side would
        // surface as errors in the closed pools, so wait for them (briefly) to go on their own.
        for (let i = 0; i < 100; i++) {
          const { rows } = await c.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [name]);
          if (rows[0].n === 0) break;
          await new Promise((r) => setTimeout(r, 20));
        }
        // FORCE ends connections a failed test left open, so the database never outlives the run.
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      }),
  };
}

/**
 * A database for the whole test file, with an admin pool of one connection on it (for emptying tables and
 * reading behind the store's back); both go when the file's tests are done.
 */
export async function testDatabaseForFile(): Promise<{ database: TestDatabase; admin: pg.Pool }> {
  const database = await createTestDatabase();
  const admin = new pg.Pool({ connectionString: database.url, max: 1 });
  afterAll(async () => {
    await admin.end();
    await database.drop();
  });
  return { database, admin };
}

/** The store's tables, children before parents (so DELETE never trips a foreign key). */
const STORE_TABLES = ['webhook_attempts', 'webhook_deliveries', 'ledger', 'idempotency', 'tasks', 'api_keys'];

/**
 * Empties a migrated database between tests: a fresh database per test costs ~150 ms on an idle server and
 * seconds on a busy one, TRUNCATE's new files a few hundred ms; DELETE on a test's few rows, milliseconds.
 * Refuses to run if the schema has a table it does not know, so a new table is never left full.
 */
export async function emptyStoreTables(pool: pg.Pool): Promise<void> {
  const { rows } = await pool.query("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename <> 'schema_migrations'");
  const unknown = rows.map((r) => String(r.tablename)).filter((t) => !STORE_TABLES.includes(t));
  if (unknown.length) throw new Error(`emptyStoreTables does not know the table(s) ${unknown.join(', ')}: add them to STORE_TABLES`);
  await pool.query(STORE_TABLES.map((t) => `DELETE FROM ${t}`).join('; '));
}

/**
 * A store on the file's database for each test of the calling describe: opened on emptied tables before the
 * test, closed after it (closing twice is safe, so a test may close it itself). Read it through the function.
 */
export function storeForEachTest(database: TestDatabase, admin: pg.Pool, poolSize = 4): () => PostgresStore {
  let store: PostgresStore | undefined;
  beforeEach(async () => {
    store = await PostgresStore.open(database.url, { poolSize });
    await emptyStoreTables(admin);
  });
  afterEach(async () => {
    await store?.close();
  });
  return () => store!;
}

/**
 * Transactions on `pool` that count themselves and the statements run in them (a statement by its prepared
 * name, or its first 24 characters), and keep every error a statement met: for batchers that take an
 * InTransaction.
 */
export function countedTransactions(pool: pg.Pool): { inTransaction: InTransaction; seen: { transactions: number; statements: string[]; errors: unknown[] } } {
  const seen = { transactions: 0, statements: [] as string[], errors: [] as unknown[] };
  const inTransaction: InTransaction = (fn) =>
    transaction(pool, (tx) => {
      seen.transactions++;
      const watched: Db = {
        query: (text, values, name) => (seen.statements.push(name ?? text.trim().slice(0, 24)), tx.query(text, values, name).catch((e: unknown) => (seen.errors.push(e), Promise.reject(e)))),
      };
      return fn(watched);
    });
  return { inTransaction, seen };
}

/** What a batcher built on countedTransactions falls back to when a test requires that none does. */
export const noFallback = (): Promise<never> => Promise.reject(new Error('a batch fell back to one at a time'));
