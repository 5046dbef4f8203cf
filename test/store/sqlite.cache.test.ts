import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { openStore } from '../../src/store/open.ts';
import { SqliteStore } from '../../src/store/sqlite/sqliteStore.ts';

describe('sqlite_cache_mib', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });

  it('defaults to 256 MiB, takes REELAY_SQLITE_CACHE_MIB, and refuses less than 2', () => {
    expect(loadConfig({ REELAY_DATA_DIR: os.tmpdir() }).sqlite_cache_mib).toBe(256);
    expect(loadConfig({ REELAY_DATA_DIR: os.tmpdir(), REELAY_SQLITE_CACHE_MIB: '32' }).sqlite_cache_mib).toBe(32);
    expect(() => loadConfig({ REELAY_DATA_DIR: os.tmpdir(), REELAY_SQLITE_CACHE_MIB: '1' })).toThrow(/sqlite_cache_mib/);
  });

  it('sizes the page cache of the store the gateway opens', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelay-cache-'));
    dirs.push(dir);
    const store = (await openStore(loadConfig({ REELAY_DATA_DIR: dir, REELAY_SQLITE_CACHE_MIB: '32' }))) as SqliteStore;
    expect(store.db.pragma('cache_size', { simple: true })).toBe(-32 * 1024);
    await store.close();
    const plain = new SqliteStore(path.join(dir, 'other.db'));
    expect(plain.db.pragma('cache_size', { simple: true })).toBe(-256 * 1024);
    await plain.close();
  });
});
