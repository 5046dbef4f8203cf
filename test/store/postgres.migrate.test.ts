/**
 * Migrations when several processes start at once, and `reelay migrate` as the separate deploy step
 * (run as a child process, as an operator would).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate, PG_MIGRATIONS, type Migration } from '../../src/store/postgres/migrations.ts';
import { SQLITE_MIGRATIONS } from '../../src/store/sqlite/migrations.ts';
import { PostgresStore } from '../../src/store/postgres/pgStore.ts';
import { newKey } from '../contracts/store.contract.ts';
import { createTestDatabase, postgresReachable, skipWithoutPostgres, type TestDatabase } from '../helpers/postgres.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const run = promisify(execFile);

/** `reelay migrate` in a child process with only the given settings (none inherited from this shell). */
function reelayMigrate(env: Record<string, string>): Promise<{ stdout: string; stderr: string }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REELAY_')));
  return run(process.execPath, ['bin/reelay.js', 'migrate'], { cwd: ROOT, env: { ...clean, ...env }, timeout: 60_000 });
}

const appliedLines = (out: string) => out.split('\n').filter((l) => l.startsWith('applied '));

describe('reelay migrate on SQLite', () => {
  it('creates the schema in the data directory once', { timeout: 120_000 }, async () => {
    const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'reelay-migrate-'));
    try {
      const first = await reelayMigrate({ REELAY_DATA_DIR: dir });
      expect(appliedLines(first.stdout)).toEqual(SQLITE_MIGRATIONS.map((m) => `applied ${m.version}: ${m.name}`));
      expect(appliedLines(first.stdout)[0]).toBe('applied 1: keys, ledger, tasks, idempotency, webhooks');
      expect(fs.existsSync(path.join(dir, 'reelay.db'))).toBe(true);
      const second = await reelayMigrate({ REELAY_DATA_DIR: dir });
      expect(appliedLines(second.stdout)).toEqual([]);
      expect(second.stdout).toContain(`up to date (version ${SQLITE_MIGRATIONS.length})`);
    } finally {
      await fs.promises.rm(dir, { recursive: true, force: true });
    }
  });
});

if (await postgresReachable()) {
  describe('postgres migrations', () => {
    let database: TestDatabase;
    const pools: pg.Pool[] = [];
    /** A pool of its own, as a separate process would have. */
    const process_ = () => {
      const p = new pg.Pool({ connectionString: database.url, max: 1 });
      pools.push(p);
      return p;
    };
    const versionsIn = async () => (await process_().query('SELECT version FROM schema_migrations ORDER BY version')).rows.map((r) => Number(r.version));
    beforeEach(async () => {
      database = await createTestDatabase();
    });
    afterEach(async () => {
      await Promise.all(pools.splice(0).map((p) => p.end()));
      await database.drop();
    });

    it('six processes migrating a fresh database at once apply each version once', async () => {
      const results = await Promise.all(Array.from({ length: 6 }, () => migrate(process_())));
      const applied = results.flat().map((m) => m.version);
      expect(applied.sort()).toEqual(PG_MIGRATIONS.map((m) => m.version));
      expect(results.filter((r) => r.length > 0)).toHaveLength(1);
      expect(await versionsIn()).toEqual(PG_MIGRATIONS.map((m) => m.version));
    });

    it('a new version is applied once, on top of the ones already there', async () => {
      await migrate(process_());
      const next: Migration[] = [...PG_MIGRATIONS, { version: 99, name: 'extra', sql: 'CREATE TABLE extra (x INTEGER); INSERT INTO extra VALUES (1);' }];
      const results = await Promise.all(Array.from({ length: 4 }, () => migrate(process_(), next)));
      expect(results.flat()).toEqual([{ version: 99, name: 'extra' }]);
      expect((await process_().query('SELECT count(*)::int AS n FROM extra')).rows[0].n).toBe(1);
    });

    it('a failing version rolls the whole run back', async () => {
      const broken: Migration[] = [...PG_MIGRATIONS, { version: 98, name: 'broken', sql: 'CREATE TABLE nope (x INTEGER); SELECT 1/0;' }];
      await expect(migrate(process_(), broken)).rejects.toThrow(/division by zero/);
      const tables = await process_().query("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename IN ('tasks', 'nope', 'schema_migrations')");
      expect(tables.rows).toEqual([]);
      // And a later run starts from scratch and succeeds.
      expect((await migrate(process_())).map((m) => m.version)).toEqual(PG_MIGRATIONS.map((m) => m.version));
    });

    it('`reelay migrate` run twice at once applies each version once; the schema then works', { timeout: 120_000 }, async () => {
      const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'reelay-migrate-'));
      try {
        const env = { REELAY_DATABASE_URL: database.url, REELAY_DATA_DIR: dir };
        const [x, y] = await Promise.all([reelayMigrate(env), reelayMigrate(env)]);
        expect([...appliedLines(x.stdout), ...appliedLines(y.stdout)]).toEqual(PG_MIGRATIONS.map((m) => `applied ${m.version}: ${m.name}`));
        expect(`${x.stdout}${y.stdout}`).toContain(`up to date (version ${PG_MIGRATIONS.length})`);
        // It migrated PostgreSQL, not a SQLite file in the data directory.
        expect(fs.existsSync(path.join(dir, 'reelay.db'))).toBe(false);
        expect(x.stdout + y.stdout).not.toContain('postgres@');
        const store = await PostgresStore.open(database.url, { poolSize: 1 });
        try {
          const k = await store.createKey(newKey({ balanceMicros: 1_000_000 }));
          expect((await store.getKey(k.id))?.balanceMicros).toBe(1_000_000);
        } finally {
          await store.close();
        }
      } finally {
        await fs.promises.rm(dir, { recursive: true, force: true });
      }
    });
  });
} else {
  skipWithoutPostgres('postgres migrations');
}
