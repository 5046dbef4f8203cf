/**
 * Versioned schema of the embedded store. Append new versions; never edit an applied one. A version is SQL
 * or, where SQL cannot say it, a function run in the same transaction.
 */
import type Database from 'better-sqlite3';

export interface SqliteMigration {
  version: number;
  name: string;
  sql?: string;
  apply?: (db: Database.Database) => void;
}

export const SQLITE_MIGRATIONS: SqliteMigration[] = [
  {
    version: 1,
    name: 'keys, ledger, tasks, idempotency, webhooks',
    sql: `
CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  prefix TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  balance_micros INTEGER NOT NULL DEFAULT 0 CHECK (balance_micros >= 0),
  held_micros INTEGER NOT NULL DEFAULT 0 CHECK (held_micros >= 0),
  spent_micros INTEGER NOT NULL DEFAULT 0 CHECK (spent_micros >= 0),
  rate_limit_rpm INTEGER,
  max_concurrent_tasks INTEGER,
  models TEXT,
  webhook_secret TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER
);

CREATE TABLE ledger (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  key_id TEXT NOT NULL REFERENCES api_keys(id),
  task_id TEXT,
  kind TEXT NOT NULL CHECK (kind IN ('topup','adjustment','hold','settle','release','refund')),
  balance_delta INTEGER NOT NULL,
  held_delta INTEGER NOT NULL,
  spent_delta INTEGER NOT NULL,
  balance_after INTEGER NOT NULL,
  note TEXT,
  created_at INTEGER NOT NULL
);
CREATE INDEX ledger_key ON ledger(key_id, id);
-- A task is held, settled, released or refunded at most once: the database refuses a second row.
CREATE UNIQUE INDEX ledger_task_once ON ledger(task_id, kind) WHERE task_id IS NOT NULL;

CREATE TABLE tasks (
  id TEXT PRIMARY KEY,
  key_id TEXT NOT NULL REFERENCES api_keys(id),
  model TEXT NOT NULL,
  mode TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending','processing','completed','failed','cancelled')),
  phase TEXT NOT NULL CHECK (phase IN ('queued','submitted','collecting','done')),
  progress INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  completed_at INTEGER,
  estimated_seconds INTEGER NOT NULL,
  deadline_at INTEGER NOT NULL,
  price_micros INTEGER NOT NULL,
  cost_micros INTEGER NOT NULL,
  billed_seconds REAL NOT NULL,
  attempts INTEGER NOT NULL,
  next_check_at INTEGER NOT NULL,
  lease_owner TEXT,
  lease_until INTEGER,
  idempotency_key TEXT,
  callback_url TEXT,
  result_expires_at INTEGER,
  params TEXT NOT NULL,
  inputs TEXT NOT NULL,
  plan TEXT NOT NULL,
  upstream TEXT,
  failed_channels TEXT NOT NULL,
  facts TEXT,
  error TEXT,
  result TEXT
);
CREATE INDEX tasks_by_key ON tasks(key_id, id);
CREATE INDEX tasks_due ON tasks(next_check_at) WHERE phase != 'done';
CREATE INDEX tasks_active_by_key ON tasks(key_id) WHERE phase != 'done';
CREATE INDEX tasks_active_by_model ON tasks(model) WHERE phase != 'done';
CREATE INDEX tasks_deadline ON tasks(deadline_at) WHERE phase != 'done';
CREATE INDEX tasks_result_expiry ON tasks(result_expires_at) WHERE result IS NOT NULL;

CREATE TABLE idempotency (
  key_id TEXT NOT NULL,
  idem_key TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  task_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (key_id, idem_key)
);
CREATE INDEX idempotency_age ON idempotency(created_at);

CREATE TABLE webhook_deliveries (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  task_id TEXT NOT NULL,
  key_id TEXT NOT NULL,
  url TEXT NOT NULL,
  event TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  delivered_at INTEGER,
  abandoned_at INTEGER,
  last_status INTEGER,
  last_error TEXT,
  created_at INTEGER NOT NULL,
  UNIQUE (task_id, event)
);
CREATE INDEX webhooks_due ON webhook_deliveries(next_attempt_at) WHERE delivered_at IS NULL AND abandoned_at IS NULL;

CREATE TABLE webhook_attempts (
  delivery_id INTEGER NOT NULL REFERENCES webhook_deliveries(id),
  attempt INTEGER NOT NULL,
  at INTEGER NOT NULL,
  status INTEGER,
  error TEXT,
  duration_ms INTEGER NOT NULL,
  PRIMARY KEY (delivery_id, attempt)
);
`,
  },
  {
    version: 2,
    name: 'CHECK constraints as comparisons, not IN lists',
    apply: (db) => editCreateStatements(db, CHECK_REWRITES),
  },
];

/** A CHECK of version 1 that lists constants with IN, and the same constraint as comparisons. */
function inListAsComparisons(table: string, column: string, values: string[]) {
  return {
    table,
    from: `CHECK (${column} IN (${values.map((v) => `'${v}'`).join(',')}))`,
    to: `CHECK (${values.map((v) => `${column} = '${v}'`).join(' OR ')})`,
  };
}

/** Version 2's edits. */
export const CHECK_REWRITES: CreateStatementEdit[] = [
  inListAsComparisons('tasks', 'status', ['pending', 'processing', 'completed', 'failed', 'cancelled']),
  inListAsComparisons('tasks', 'phase', ['queued', 'submitted', 'collecting', 'done']),
  inListAsComparisons('ledger', 'kind', ['topup', 'adjustment', 'hold', 'settle', 'release', 'refund']),
];

/** Text `from` in table `table`'s CREATE statement, replaced by `to`. */
export interface CreateStatementEdit {
  table: string;
  from: string;
  to: string;
}

/**
 * Version 2 rewrote version 1's CHECK constraints. SQLite checks `x IN ('a', 'b', 'c')` (more than two
 * constants) by building an ephemeral index of the list every time a statement runs: each task INSERT built
 * two and each ledger INSERT one, 3 µs and 1.5–2 µs of a submit's ~50 µs in the store
 * (docs/decisions/0012-performance.md, item 33). An OR of comparisons is the same constraint without it.
 *
 * A CHECK constraint is not stored content, so this is SQLite's documented procedure for such changes
 * (sqlite.org/lang_altertable.html, "Making Other Kinds Of Table Schema Changes"): edit the table's CREATE
 * statement in sqlite_schema and bump schema_version, in O(1) instead of copying every task and ledger row.
 * Every existing row satisfies the new form, since it is the old one spelled out. better-sqlite3 opens
 * connections in SQLite's defensive mode, which refuses writes to sqlite_schema; it is lifted for this
 * call only. Each `from` must appear exactly once: anything else is a schema these edits do not know.
 */
export function editCreateStatements(db: Database.Database, edits: CreateStatementEdit[]): void {
  db.unsafeMode(true);
  try {
    const schemaVersion = db.pragma('schema_version', { simple: true }) as number;
    db.pragma('writable_schema = ON');
    const read = db.prepare("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?").pluck();
    const write = db.prepare("UPDATE sqlite_schema SET sql = ? WHERE type = 'table' AND name = ?");
    for (const { table, from, to } of edits) {
      const sql = read.get(table) as string;
      if (sql.split(from).length !== 2) throw new Error(`the ${table} table's CREATE statement does not hold ${from} exactly once`);
      write.run(sql.replace(from, to), table);
    }
    db.pragma(`schema_version = ${schemaVersion + 1}`);
  } finally {
    // Connection settings, not part of the transaction: put back whether or not the rewrite went through.
    db.pragma('writable_schema = OFF');
    db.unsafeMode(false);
  }
}
