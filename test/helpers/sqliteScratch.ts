/**
 * Scratch SQLite files and promise helpers for the group-commit and checkpoint tests: directories made
 * here are removed by `removeScratch` (call it in afterEach).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';

const dirs: string[] = [];

export function scratchDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelay-scratch-'));
  dirs.push(dir);
  return dir;
}

/** A WAL-mode database with one table `t (v INTEGER NOT NULL CHECK (v >= 0))`. */
export function scratchDb(): Database.Database {
  const db = new Database(path.join(scratchDir(), 'x.db'));
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE t (v INTEGER NOT NULL CHECK (v >= 0))');
  return db;
}

export function removeScratch(): void {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
}

/** A promise the test settles itself. */
export function deferred() {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

/** One turn of the event loop. */
export const tick = () => new Promise((r) => setImmediate(r));

/** Lets `n` turns of the event loop pass. */
export async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await tick();
}
