/**
 * Versioned schema of the PostgreSQL store. Append new versions; never edit an applied one.
 *
 * It mirrors src/store/sqlite/migrations.ts column for column (rows.ts maps both): BIGINT for micro-units
 * and ms timestamps (a JS number holds them exactly; pg hands them back as strings, which rows.ts converts),
 * JSONB for the parts of a task read and written whole, the same CHECK constraints and partial indexes.
 * Identifier columns compared with < or sorted (ids, key ids, models) use COLLATE "C" so they order byte by
 * byte as SQLite's BINARY collation does, whatever the database's default locale.
 */
import type pg from 'pg';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const PG_MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'keys, ledger, tasks, idempotency, webhooks',
    sql: `
CREATE TABLE api_keys (
  id TEXT COLLATE "C" PRIMARY KEY,
  name TEXT NOT NULL,
  prefix TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  balance_micros BIGINT NOT NULL DEFAULT 0 CHECK (balance_micros >= 0),
  held_micros BIGINT NOT NULL DEFAULT 0 CHECK (held_micros >= 0),
  spent_micros BIGINT NOT NULL DEFAULT 0 CHECK (spent_micros >= 0),
  rate_limit_rpm INTEGER,
  max_concurrent_tasks INTEGER,
  models JSONB,
  webhook_secret TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  revoked_at BIGINT
);

CREATE TABLE ledger (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  key_id TEXT COLLATE "C" NOT NULL REFERENCES api_keys(id),
  task_id TEXT COLLATE "C",
  kind TEXT NOT NULL CHECK (kind IN ('topup','adjustment','hold','settle','release','refund')),
  balance_delta BIGINT NOT NULL,
  held_delta BIGINT NOT NULL,
  spent_delta BIGINT NOT NULL,
  balance_after BIGINT NOT NULL,
  note TEXT,
  created_at BIGINT NOT NULL
);
CREATE INDEX ledger_key ON ledger(key_id, id);
-- A task is held, settled, released or refunded at most once: the database refuses a second row.
CREATE UNIQUE INDEX ledger_task_once ON ledger(task_id, kind) WHERE task_id IS NOT NULL;

CREATE TABLE tasks (
  id TEXT COLLATE "C" PRIMARY KEY,
  key_id TEXT COLLATE "C" NOT NULL REFERENCES api_keys(id),
  model TEXT COLLATE "C" NOT NULL,
  mode TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending','processing','completed','failed','cancelled')),
  phase TEXT NOT NULL CHECK (phase IN ('queued','submitted','collecting','done')),
  progress INTEGER NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  completed_at BIGINT,
  estimated_seconds INTEGER NOT NULL,
  deadline_at BIGINT NOT NULL,
  price_micros BIGINT NOT NULL,
  cost_micros BIGINT NOT NULL,
  billed_seconds DOUBLE PRECISION NOT NULL,
  attempts INTEGER NOT NULL,
  next_check_at BIGINT NOT NULL,
  lease_owner TEXT,
  lease_until BIGINT,
  idempotency_key TEXT,
  callback_url TEXT,
  result_expires_at BIGINT,
  params JSONB NOT NULL,
  inputs JSONB NOT NULL,
  plan JSONB NOT NULL,
  upstream JSONB,
  failed_channels JSONB NOT NULL,
  facts JSONB,
  error JSONB,
  result JSONB
);
CREATE INDEX tasks_by_key ON tasks(key_id, id);
CREATE INDEX tasks_due ON tasks(next_check_at) WHERE phase <> 'done';
CREATE INDEX tasks_active_by_key ON tasks(key_id) WHERE phase <> 'done';
CREATE INDEX tasks_active_by_model ON tasks(model) WHERE phase <> 'done';
CREATE INDEX tasks_deadline ON tasks(deadline_at) WHERE phase <> 'done';
CREATE INDEX tasks_result_expiry ON tasks(result_expires_at) WHERE result IS NOT NULL;

CREATE TABLE idempotency (
  key_id TEXT COLLATE "C" NOT NULL,
  idem_key TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  task_id TEXT COLLATE "C" NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (key_id, idem_key)
);
CREATE INDEX idempotency_age ON idempotency(created_at);

CREATE TABLE webhook_deliveries (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  task_id TEXT COLLATE "C" NOT NULL,
  key_id TEXT COLLATE "C" NOT NULL,
  url TEXT NOT NULL,
  event TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at BIGINT NOT NULL,
  delivered_at BIGINT,
  abandoned_at BIGINT,
  last_status INTEGER,
  last_error TEXT,
  created_at BIGINT NOT NULL,
  UNIQUE (task_id, event)
);
CREATE INDEX webhooks_due ON webhook_deliveries(next_attempt_at) WHERE delivered_at IS NULL AND abandoned_at IS NULL;

CREATE TABLE webhook_attempts (
  delivery_id BIGINT NOT NULL REFERENCES webhook_deliveries(id),
  attempt INTEGER NOT NULL,
  at BIGINT NOT NULL,
  status INTEGER,
  error TEXT,
  duration_ms INTEGER NOT NULL,
  PRIMARY KEY (delivery_id, attempt)
);
`,
  },
];

/** Any constant works; it only has to be the same in every process that migrates this database. */
const MIGRATION_LOCK = 0x7265656c; // 'reel'

export interface AppliedMigration {
  version: number;
  name: string;
}

/**
 * Applies the versions the database lacks, all in one transaction holding a transaction-scoped advisory
 * lock: processes starting at once queue on the lock, and each sees the versions the one before it committed,
 * so every version is applied exactly once. A failed version rolls the whole run back. Returns what it applied.
 */
export async function migrate(pool: pg.Pool, migrations: readonly Migration[] = PG_MIGRATIONS): Promise<AppliedMigration[]> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)');
    const done = new Set((await client.query('SELECT version FROM schema_migrations')).rows.map((r) => Number(r.version)));
    const applied: AppliedMigration[] = [];
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (done.has(m.version)) continue;
      await client.query(m.sql);
      await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, Date.now()]);
      applied.push({ version: m.version, name: m.name });
    }
    await client.query('COMMIT');
    return applied;
  } catch (e) {
    await client.query('ROLLBACK').catch((r: Error) => (broken = r));
    throw e;
  } finally {
    // A connection whose ROLLBACK failed is in an unknown state: destroy it rather than reuse it.
    client.release(broken);
  }
}
