/**
 * The key cache: lookups are answered without the store for a few seconds, a revoke (forget) ends that at
 * once, and entries of tokens no longer sent are dropped rather than kept for good.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiKeys, MISS } from '../../src/accounts/apiKeys.ts';
import { SqliteStore } from '../../src/store/sqlite/sqliteStore.ts';

describe('ApiKeys cache', () => {
  let dir: string;
  let store: SqliteStore;
  let keys: ApiKeys;

  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'], now: 1_800_000_000_000 });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelay-keys-'));
    store = new SqliteStore(path.join(dir, 'reelay.db'), { synchronous: 'NORMAL' });
    keys = new ApiKeys(store);
  });
  afterEach(async () => {
    vi.useRealTimers();
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers from the cache for 5 s, then asks the store again', async () => {
    const { record, key } = await keys.create({ name: 'a' });
    expect(keys.authenticateCached(key)).toBe(MISS);
    expect((await keys.authenticate(key))?.id).toBe(record.id);
    expect((keys.authenticateCached(key) as { id: string }).id).toBe(record.id);
    vi.setSystemTime(Date.now() + 5_000);
    expect(keys.authenticateCached(key)).toBe(MISS);
  });

  it('forget(hash) drops the lookup of that key only, so a revoke takes effect at once', async () => {
    const a = await keys.create({ name: 'a' });
    const b = await keys.create({ name: 'b' });
    await keys.authenticate(a.key);
    await keys.authenticate(b.key);
    await store.revokeKey(a.record.id, Date.now());
    keys.forget(a.record.hash);
    expect(keys.authenticateCached(a.key)).toBe(MISS);
    expect(await keys.authenticate(a.key)).toBeUndefined();
    expect((keys.authenticateCached(b.key) as { id: string }).id).toBe(b.record.id);
  });

  it('an unknown token is cached as unknown, and malformed ones never reach the store', async () => {
    const token = 'rk_' + 'x'.repeat(40);
    expect(await keys.authenticate(token)).toBeUndefined();
    expect(keys.authenticateCached(token)).toBeUndefined();
    expect(keys.authenticateCached('not-a-key')).toBeUndefined();
  });

  it('drops entries of tokens no longer sent, on a later store lookup a minute on', async () => {
    const a = await keys.create({ name: 'a' });
    const b = await keys.create({ name: 'b' });
    await keys.authenticate(a.key);
    const cache = (keys as unknown as { cache: Map<string, unknown> }).cache;
    expect(cache.has(a.key)).toBe(true);
    vi.setSystemTime(Date.now() + 61_000);
    await keys.authenticate(b.key);
    expect(cache.has(a.key)).toBe(false);
    expect(cache.has(b.key)).toBe(true);
  });
});
