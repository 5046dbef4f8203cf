import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { openStore } from '../../src/store/open.ts';
import { SqliteStore } from '../../src/store/sqlite/sqliteStore.ts';
import type { WalCheckpointer } from '../../src/store/sqlite/checkpointer.ts';

const MIB = 1024 * 1024;

describe('sqlite_cache_mib and sqlite_mmap_mib', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });
  const tempDir = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelay-cache-'));
    dirs.push(dir);
    return dir;
  };
  const checkpointerOf = (store: SqliteStore) => (store as unknown as { checkpointer: WalCheckpointer }).checkpointer;
  /** The mmap_size of the checkpoint thread's own connection, read on that connection. */
  const threadMmap = (store: SqliteStore) => checkpointerOf(store).readValue('PRAGMA mmap_size', []);

  it('default to a 16 MiB cache and a 2047 MiB map, take their variables, and refuse what SQLite cannot do', () => {
    const dataDir = os.tmpdir();
    expect(loadConfig({ REELAY_DATA_DIR: dataDir }).sqlite_cache_mib).toBe(16);
    expect(loadConfig({ REELAY_DATA_DIR: dataDir }).sqlite_mmap_mib).toBe(2047);
    expect(loadConfig({ REELAY_DATA_DIR: dataDir, REELAY_SQLITE_CACHE_MIB: '32' }).sqlite_cache_mib).toBe(32);
    expect(loadConfig({ REELAY_DATA_DIR: dataDir, REELAY_SQLITE_MMAP_MIB: '0' }).sqlite_mmap_mib).toBe(0);
    expect(() => loadConfig({ REELAY_DATA_DIR: dataDir, REELAY_SQLITE_CACHE_MIB: '1' })).toThrow(/sqlite_cache_mib/);
    expect(() => loadConfig({ REELAY_DATA_DIR: dataDir, REELAY_SQLITE_MMAP_MIB: '4096' })).toThrow(/sqlite_mmap_mib/);
  });

  it('size the cache and the map of the store the gateway opens, and of its checkpoint thread', async () => {
    const dir = tempDir();
    const store = (await openStore(loadConfig({ REELAY_DATA_DIR: dir, REELAY_SQLITE_CACHE_MIB: '32', REELAY_SQLITE_MMAP_MIB: '64' }))) as SqliteStore;
    expect(store.db.pragma('cache_size', { simple: true })).toBe(-32 * 1024);
    expect(store.db.pragma('mmap_size', { simple: true })).toBe(64 * MIB);
    expect(await threadMmap(store)).toBe(64 * MIB);
    await store.close();

    const plain = new SqliteStore(path.join(dir, 'other.db'));
    expect(plain.db.pragma('cache_size', { simple: true })).toBe(-16 * 1024);
    expect(plain.db.pragma('mmap_size', { simple: true })).toBe(2047 * MIB);
    await plain.close();

    const unmapped = (await openStore(loadConfig({ REELAY_DATA_DIR: tempDir(), REELAY_SQLITE_MMAP_MIB: '0' }))) as SqliteStore;
    expect(unmapped.db.pragma('mmap_size', { simple: true })).toBe(0);
    expect(await threadMmap(unmapped)).toBe(0);
    await unmapped.close();
  });

  it('reads through the map what another connection committed, before and after the checkpoint thread copied it into the file', async () => {
    const dir = tempDir();
    const store = new SqliteStore(path.join(dir, 'reelay.db'), { mmapMiB: 64 });
    const key = await store.createKey({ id: 'key_1', name: 'k', prefix: 'rk_test', hash: 'h1', balanceMicros: 5, rateLimitRpm: null, maxConcurrentTasks: null, models: null, webhookSecret: 's', createdAt: Date.now() });
    // Copied into the database file, so the next read of the key's page finds it in the map, not the WAL.
    await checkpointerOf(store).finish();
    const other = new SqliteStore(path.join(dir, 'reelay.db'), { mmapMiB: 64 });
    expect((await other.getKey(key.id))?.balanceMicros).toBe(5);
    await store.adjustBalance(key.id, 7, 'topup', 'more', Date.now());
    expect((await other.getKey(key.id))?.balanceMicros).toBe(12);
    await other.close();
    await store.close();
  });

  it('maps the file again once it has outgrown the map, which SQLite does not do for the writing connection', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'reelay.db');
    const store = new SqliteStore(file, { mmapMiB: 64, cacheMiB: 2 });
    /** The sizes of every map of the database file in this process (the gateway's and the thread's). */
    const maps = () =>
      fs
        .readFileSync('/proc/self/maps', 'utf8')
        .split('\n')
        .filter((l) => l.endsWith(file))
        .map((l) => l.split(' ')[0].split('-').map((x) => parseInt(x, 16)))
        .map(([from, to]) => to - from);
    const grow = async (mib: number) => {
      store.db.exec('CREATE TABLE IF NOT EXISTS filler (x BLOB)');
      const add = store.db.prepare('INSERT INTO filler VALUES (randomblob(4000))');
      store.db.transaction(() => {
        for (let i = 0; i < mib * 256; i++) add.run();
      })();
      // Copied into the file by the checkpoint thread, which extends the file (and its own map).
      await checkpointerOf(store).finish();
      // A read through the gateway's connection, which maps the file if it has no map yet.
      store.db.prepare('SELECT count(*) FROM filler').get();
    };
    await grow(1);
    expect(store.fileMap!.refresh()).toBe(false);
    await grow(4);
    const size = fs.statSync(file).size;
    // The gateway's map still has the size of its first read; the thread's has followed the file.
    expect(Math.min(...maps())).toBeLessThan(size / 2);
    expect(store.fileMap!.refresh()).toBe(true);
    expect(Math.min(...maps())).toBeGreaterThanOrEqual(size);
    expect(store.fileMap!.refresh()).toBe(false);
    expect(store.fileMap!.remaps).toBe(1);
    await store.close();
  });
});
