/**
 * `reelay migrate`: brings the configured database's schema up to date and exits — PostgreSQL at
 * REELAY_DATABASE_URL (database_url), else the SQLite file in the data directory. Gateways migrate on start
 * too; this is for deploys that migrate in a separate step, before the new processes start.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import Database from 'better-sqlite3';
import pg from 'pg';
import { loadConfig } from '../config/load.ts';
import { migrate, PG_MIGRATIONS, type AppliedMigration } from '../store/postgres/migrations.ts';
import { SQLITE_MIGRATIONS } from '../store/sqlite/migrations.ts';
import { SqliteStore } from '../store/sqlite/sqliteStore.ts';

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('Apply the schema migrations the database lacks (PostgreSQL at REELAY_DATABASE_URL, else SQLite in REELAY_DATA_DIR), then exit.')
    .action(async () => {
      const config = loadConfig();
      const { target, applied, latest } = config.database_url
        ? { target: describePostgres(config.database_url), applied: await migratePostgres(config.database_url), latest: latestOf(PG_MIGRATIONS) }
        : await migrateSqlite(path.join(config.data_dir, 'reelay.db'), config.sqlite_synchronous);
      for (const m of applied) process.stdout.write(`applied ${m.version}: ${m.name}\n`);
      process.stdout.write(`${target}: ${applied.length ? `migrated to version ${latest}` : `up to date (version ${latest})`}\n`);
    });
}

async function migratePostgres(url: string): Promise<AppliedMigration[]> {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  pool.on('error', () => undefined); // an idle connection dropping is of no interest to a one-shot command
  try {
    return await migrate(pool);
  } finally {
    await pool.end();
  }
}

/** Opening the store migrates it; the versions present before and after tell what this run applied. */
async function migrateSqlite(file: string, synchronous: 'FULL' | 'NORMAL'): Promise<{ target: string; applied: AppliedMigration[]; latest: number }> {
  const before = new Set(fs.existsSync(file) ? sqliteVersions(file).map((m) => m.version) : []);
  await new SqliteStore(file, { synchronous }).close();
  const applied = sqliteVersions(file).filter((m) => !before.has(m.version));
  return { target: `SQLite ${file}`, applied, latest: latestOf(SQLITE_MIGRATIONS) };
}

function sqliteVersions(file: string): AppliedMigration[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get();
    if (!table) return [];
    return (db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all() as { version: number; name: string }[]).map((r) => ({
      version: Number(r.version),
      name: String(r.name),
    }));
  } finally {
    db.close();
  }
}

/** Where it migrated, without the password a URL may carry. */
function describePostgres(url: string): string {
  try {
    const u = new URL(url);
    return `PostgreSQL ${u.host}${u.pathname}`;
  } catch {
    return 'PostgreSQL';
  }
}

const latestOf = (ms: readonly { version: number }[]): number => Math.max(0, ...ms.map((m) => m.version));
