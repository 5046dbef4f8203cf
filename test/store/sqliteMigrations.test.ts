/**
 * Migration 2 of the embedded store: the CHECK constraints of version 1 that listed constants with IN become
 * comparisons, in place. A data dir made by version 1 must keep every row and every constraint, and the
 * writes on the submit path must stop building an ephemeral index per statement.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { CHECK_REWRITES, editCreateStatements, SQLITE_MIGRATIONS } from '../../src/store/sqlite/migrations.ts';
import { SqliteStore } from '../../src/store/sqlite/sqliteStore.ts';
import { newKey, newTask } from '../contracts/store.contract.ts';
import { removeScratch, scratchDir } from '../helpers/sqliteScratch.ts';

afterEach(removeScratch);

/** A database file as version 1 left it, optionally with its schema text changed first. */
function versionOneFile(edit: (sql: string) => string = (s) => s): string {
  const file = path.join(scratchDir(), 'reelay.db');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
  db.exec(edit(SQLITE_MIGRATIONS[0].sql!));
  db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (1, ?, 0)').run(SQLITE_MIGRATIONS[0].name);
  db.close();
  return file;
}

/** Takes a migrated file back to version 1: its schema text, and no record of version 2. */
function backToVersionOne(file: string): void {
  const db = new Database(file);
  try {
    editCreateStatements(db, CHECK_REWRITES.map((r) => ({ table: r.table, from: r.to, to: r.from })));
    db.prepare('DELETE FROM schema_migrations WHERE version > 1').run();
  } finally {
    db.close();
  }
}

function tableSql(db: Database.Database, table: string): string {
  return db.prepare("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?").pluck().get(table) as string;
}

/** Every column of the table bound to a value that satisfies its constraints, as an INSERT. */
function explainInsert(db: Database.Database, table: 'tasks' | 'ledger'): string[] {
  const cols = db.prepare(`SELECT name FROM pragma_table_info('${table}') WHERE name != 'id' OR '${table}' = 'tasks'`).pluck().all() as string[];
  const sql = `EXPLAIN INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`;
  return (db.prepare(sql).all(...cols.map(() => null)) as { opcode: string }[]).map((o) => o.opcode);
}

describe('sqlite migration 2: CHECK constraints as comparisons', () => {
  it('migrates a version-1 data dir in place: rows, money and constraints kept', async () => {
    const file = path.join(scratchDir(), 'reelay.db');
    const before = new SqliteStore(file);
    const key = await before.createKey(newKey({ balanceMicros: 10_000_000 }));
    const { task } = await before.createTask(newTask(key.id, { priceMicros: 1_000_000 }), { maxConcurrentTasks: null });
    await before.close();
    backToVersionOne(file);

    const store = new SqliteStore(file);
    try {
      const db = store.db;
      expect(db.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all()).toEqual(SQLITE_MIGRATIONS.map((m) => m.version));
      for (const r of CHECK_REWRITES) {
        expect(tableSql(db, r.table)).toContain(r.to);
        expect(tableSql(db, r.table)).not.toContain(r.from);
      }
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      expect((await store.getTask(task.id))?.priceMicros).toBe(1_000_000);
      expect((await store.getKey(key.id))).toMatchObject({ balanceMicros: 9_000_000, heldMicros: 1_000_000 });
      // Still refused: a status, phase or ledger kind outside the lists.
      expect(() => db.prepare("UPDATE tasks SET status = 'lost' WHERE id = ?").run(task.id)).toThrow(/CHECK constraint failed/);
      expect(() => db.prepare("UPDATE tasks SET phase = 'limbo' WHERE id = ?").run(task.id)).toThrow(/CHECK constraint failed/);
      expect(() => db.prepare("UPDATE ledger SET kind = 'gift'").run()).toThrow(/CHECK constraint failed/);
      // And the connection is back in defensive mode: the schema is not writable.
      expect(() => db.prepare("UPDATE sqlite_schema SET sql = sql WHERE name = 'tasks'").run()).toThrow(/may not be modified/);
    } finally {
      await store.close();
    }
  });

  it('inserting a task or a ledger row builds no ephemeral index (version 1 built three)', async () => {
    const v1 = new Database(versionOneFile());
    try {
      const ephemeral = (t: 'tasks' | 'ledger') => explainInsert(v1, t).filter((op) => op === 'OpenEphemeral').length;
      expect(ephemeral('tasks') + ephemeral('ledger')).toBe(3);
    } finally {
      v1.close();
    }
    const store = new SqliteStore(path.join(scratchDir(), 'reelay.db'));
    try {
      expect(explainInsert(store.db, 'tasks')).not.toContain('OpenEphemeral');
      expect(explainInsert(store.db, 'ledger')).not.toContain('OpenEphemeral');
    } finally {
      await store.close();
    }
  });

  it('refuses a schema it does not know and leaves the file at version 1', async () => {
    const file = versionOneFile((sql) => sql.replace("'failed','cancelled'", "'failed','cancelled','archived'"));
    const opened: Database.Database[] = [];
    const original = SQLITE_MIGRATIONS[1].apply!;
    SQLITE_MIGRATIONS[1].apply = (db) => {
      opened.push(db);
      original(db);
    };
    try {
      expect(() => new SqliteStore(file)).toThrow(/tasks table's CREATE statement does not hold/);
    } finally {
      SQLITE_MIGRATIONS[1].apply = original;
    }
    // The refused rewrite leaves the connection as it found it: the schema not writable.
    expect(opened[0].pragma('writable_schema', { simple: true })).toBe(0);
    expect(() => opened[0].prepare("UPDATE sqlite_schema SET sql = sql WHERE name = 'tasks'").run()).toThrow(/may not be modified/);
    opened[0].close();
    const db = new Database(file, { readonly: true });
    try {
      expect(db.prepare('SELECT version FROM schema_migrations').pluck().all()).toEqual([1]);
      expect(tableSql(db, 'ledger')).toContain(CHECK_REWRITES[2].from);
    } finally {
      db.close();
    }
  });
});
