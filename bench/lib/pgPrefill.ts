/**
 * PostgreSQL for the benchmark: a database of its own (unique name, created by the run and dropped after
 * it), filled the way prefill.ts fills SQLite, and the CPU time of the PostgreSQL server processes that
 * work for it, read from /proc.
 *
 * The server is BENCH_POSTGRES_URL, else REELAY_TEST_POSTGRES_URL (the test suites' setting), else the local
 * trust-auth server; it must allow CREATE DATABASE. The database keeps the server's settings
 * (synchronous_commit = on by default): a submit is answered after its commit's WAL flush, as in production,
 * and as the SQLite figures are measured with synchronous=FULL.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import pg from 'pg';
import { ApiKeys } from '../../src/accounts/apiKeys.ts';
import { PostgresStore } from '../../src/store/postgres/pgStore.ts';
import { TASK_COLUMN_NAMES, taskColumns } from '../../src/store/rows.ts';
import type { CpuMeter } from './load.ts';
import { DEFAULT_MIX, prefillRows, type KeyTotals, type PrefillMix } from './prefill.ts';
import { cpuMsOf } from './proc.ts';

export const PG_ADMIN_URL = process.env.BENCH_POSTGRES_URL ?? process.env.REELAY_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface BenchDatabase {
  name: string;
  url: string;
  /** The server's version and the settings that decide what a commit costs. */
  server: { version: string; settings: Record<string, string> };
  drop(): Promise<void>;
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 5000 });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Why PostgreSQL cannot be used (null: it can). */
export async function postgresUnavailable(): Promise<string | null> {
  try {
    await admin((c) => c.query('SELECT 1'));
    return null;
  } catch (e) {
    return `PostgreSQL unreachable at ${redact(PG_ADMIN_URL)}: ${(e as Error).message}`;
  }
}

export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'the configured URL';
  }
}

const SETTINGS = ['synchronous_commit', 'fsync', 'wal_sync_method', 'shared_buffers', 'max_wal_size', 'checkpoint_timeout', 'commit_delay', 'max_connections'];

export async function createBenchDatabase(): Promise<BenchDatabase> {
  const name = `reelay_bench_${randomBytes(6).toString('hex')}`;
  const server = await admin(async (c) => {
    await c.query(`CREATE DATABASE ${name}`);
    const version = String((await c.query('SHOW server_version')).rows[0].server_version);
    const rows = (await c.query('SELECT name, setting, unit FROM pg_settings WHERE name = ANY($1)', [SETTINGS])).rows as { name: string; setting: string; unit: string | null }[];
    const settings: Record<string, string> = {};
    for (const r of rows) settings[r.name] = r.unit === '8kB' ? `${(Number(r.setting) * 8) / 1024} MiB` : r.unit === 'MB' ? `${r.setting} MB` : r.unit === 's' ? `${r.setting} s` : r.setting;
    return { version, settings };
  });
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    server,
    drop: () =>
      admin(async (c) => {
        // FORCE ends connections a crashed gateway left behind, so the database never outlives the run.
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      }),
  };
}

/** The schema (through the store, which migrates) and an API key with a balance no benchmark can spend. */
export async function setUpDatabase(url: string): Promise<{ id: string; key: string }> {
  const store = await PostgresStore.open(url, { poolSize: 2 });
  try {
    const { record, key } = await new ApiKeys(store).create({ name: 'bench', balanceMicros: 1e15 });
    return { id: record.id, key };
  } finally {
    await store.close();
  }
}

const JSON_COLUMNS = new Set(['params', 'inputs', 'plan', 'upstream', 'failed_channels', 'facts', 'error', 'result']);

/**
 * Adds `count` tasks of `keyId`: the rows prefill.ts writes into SQLite (prefillRows: the same tasks, the
 * same ledger rows with running balances, the same key totals), here in transactions of 5,000 tasks, each
 * table's rows sent as one JSON array and inserted by json_populate_recordset against the table's own row
 * type — the real schema, with every index, check and constraint in place. Returns the new ids.
 */
export async function prefillPostgres(url: string, keyId: string, count: number, mix: PrefillMix = DEFAULT_MIX): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const ids: string[] = [];
  const CHUNK = 5_000;
  const cols = TASK_COLUMN_NAMES.join(', ');
  const ledgerCols = 'key_id, task_id, kind, balance_delta, held_delta, spent_delta, balance_after, note, created_at';
  try {
    for (let start = 0; start < count; start += CHUNK) {
      const n = Math.min(CHUNK, count - start);
      await client.query('BEGIN');
      const k = (await client.query('SELECT balance_micros AS b, held_micros AS h, spent_micros AS s FROM api_keys WHERE id = $1 FOR UPDATE', [keyId])).rows[0];
      const totals: KeyTotals = { b: Number(k.b), h: Number(k.h), s: Number(k.s) };
      const rows = prefillRows(keyId, start, n, mix, totals, Date.now());
      // Ledger ids follow the order of the moves, as when each was written by its own statement.
      await client.query(
        `INSERT INTO ledger (${ledgerCols}) SELECT ${ledgerCols} FROM json_populate_recordset(NULL::ledger, $1::json) WITH ORDINALITY AS r ORDER BY ordinality`,
        [JSON.stringify(rows.ledger)],
      );
      const taskRows = rows.tasks.map((t) => {
        const c = taskColumns(t);
        for (const name of JSON_COLUMNS) if (typeof c[name] === 'string') c[name] = JSON.parse(c[name] as string);
        return c;
      });
      await client.query(`INSERT INTO tasks (${cols}) SELECT ${cols} FROM json_populate_recordset(NULL::tasks, $1::json)`, [JSON.stringify(taskRows)]);
      await client.query('UPDATE api_keys SET balance_micros = $1, held_micros = $2, spent_micros = $3 WHERE id = $4', [totals.b, totals.h, totals.s, keyId]);
      await client.query('COMMIT');
      for (const t of rows.tasks) ids.push(t.id);
    }
    // As a database that has been in use would be: statistics gathered, visibility map set, and no
    // checkpoint of the fill's pages due in the middle of a measurement.
    await client.query('VACUUM (ANALYZE) api_keys, ledger, tasks');
    await client.query('CHECKPOINT').catch(() => undefined); // needs superuser (or pg_checkpoint); only a nicety
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    await client.end();
  }
  return ids;
}

/** The key's totals equal the sums of its ledger rows, and the stored tasks read back as the store reads them. */
export async function checkPostgres(url: string, keyId: string, sampleIds: string[]): Promise<void> {
  const store = await PostgresStore.open(url, { poolSize: 2 });
  try {
    const { rows } = await store.pool.query(
      `SELECT (SELECT sum(balance_delta) FROM ledger WHERE key_id = $1) AS b, (SELECT sum(held_delta) FROM ledger WHERE key_id = $1) AS h,
              (SELECT sum(spent_delta) FROM ledger WHERE key_id = $1) AS s, balance_micros, held_micros, spent_micros FROM api_keys WHERE id = $1`,
      [keyId],
    );
    const r = rows[0];
    if (String(r.b) !== String(r.balance_micros) || String(r.h) !== String(r.held_micros) || String(r.s) !== String(r.spent_micros)) {
      throw new Error(`ledger of ${keyId} does not add up: ${JSON.stringify(r)}`);
    }
    for (const id of sampleIds) {
      const t = await store.getTask(id);
      if (!t || t.id !== id || t.keyId !== keyId) throw new Error(`prefilled task ${id} does not read back`);
      if (t.status === 'completed' && !t.result?.videos.length) throw new Error(`prefilled task ${id} lost its result`);
    }
  } finally {
    await store.close();
  }
}

export interface TableSizes {
  tasks: number;
  /** Bytes of the tasks table (heap + TOAST) and of its indexes. */
  tasksHeap: number;
  tasksIndexes: number;
  ledgerRows: number;
  ledgerHeap: number;
  ledgerIndexes: number;
  database: number;
}

export async function tableSizes(url: string): Promise<TableSizes> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const r = (
      await c.query(`SELECT (SELECT count(*) FROM tasks) AS tasks, pg_table_size('tasks') AS tasks_heap, pg_indexes_size('tasks') AS tasks_indexes,
        (SELECT count(*) FROM ledger) AS ledger_rows, pg_table_size('ledger') AS ledger_heap, pg_indexes_size('ledger') AS ledger_indexes,
        pg_database_size(current_database()) AS database`)
    ).rows[0];
    return {
      tasks: Number(r.tasks),
      tasksHeap: Number(r.tasks_heap),
      tasksIndexes: Number(r.tasks_indexes),
      ledgerRows: Number(r.ledger_rows),
      ledgerHeap: Number(r.ledger_heap),
      ledgerIndexes: Number(r.ledger_indexes),
      database: Number(r.database),
    };
  } finally {
    await c.end();
  }
}

/** Bytes of WAL the server has written so far (a difference of two readings is what happened between). */
export async function walBytes(client: pg.Client): Promise<number> {
  return Number((await client.query("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0') AS b")).rows[0].b);
}

/**
 * CPU time of the PostgreSQL server processes working for one database: its backends (reelay's pooled
 * connections, autovacuum workers on it) and the server-wide processes its writes keep busy (walwriter,
 * checkpointer, background writer). Pids come from pg_stat_activity at each reading, CPU times from
 * /proc/<pid>/stat — so only when the server runs on this machine, in this pid namespace (`usable`).
 * A backend that exits between two readings takes its CPU time with it (pg's pool keeps its connections
 * while busy; idle ones close after 10 s, between runs).
 */
export class PgServerCpu implements CpuMeter {
  private constructor(
    private readonly client: pg.Client,
    private readonly dbName: string,
  ) {}

  /** Null (with the reason) when the server's processes cannot be read from here. */
  static async open(dbName: string): Promise<{ meter: PgServerCpu | null; why: string | null }> {
    const client = new pg.Client({ connectionString: PG_ADMIN_URL });
    await client.connect();
    const pid = Number((await client.query('SELECT pg_backend_pid() AS p')).rows[0].p);
    let comm = '';
    try {
      comm = fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    } catch {
      /* not here */
    }
    if (comm !== 'postgres') {
      await client.end();
      return { meter: null, why: `the server's processes are not visible in /proc here (backend pid ${pid}${comm ? ` is "${comm}"` : ' not found'}): the server runs elsewhere or in another pid namespace` };
    }
    return { meter: new PgServerCpu(client, dbName), why: null };
  }

  async snapshot(): Promise<Map<number, number>> {
    const { rows } = await this.client.query(
      "SELECT pid FROM pg_stat_activity WHERE (datname = $1 AND pid <> pg_backend_pid()) OR backend_type IN ('walwriter', 'checkpointer', 'background writer')",
      [this.dbName],
    );
    const m = new Map<number, number>();
    for (const r of rows) m.set(Number(r.pid), cpuMsOf(Number(r.pid)));
    return m;
  }

  /** CPU ms of the server processes since `before` (processes that started since count from zero). */
  async msSince(before: unknown): Promise<number> {
    const b = before as Map<number, number>;
    let ms = 0;
    for (const [pid, now] of await this.snapshot()) ms += Math.max(0, now - (b.get(pid) ?? 0));
    return ms;
  }

  async close(): Promise<void> {
    await this.client.end();
  }
}
