/** REELAY_DATABASE_POOL_SIZE: how many PostgreSQL connections one process may open. */
import os from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { openStore } from '../../src/store/open.ts';
import { PostgresStore } from '../../src/store/postgres/pgStore.ts';
import { createTestDatabase, postgresReachable, skipWithoutPostgres } from '../helpers/postgres.ts';

describe('database_pool_size', () => {
  it('is validated with a message that names the setting', () => {
    expect(() => loadConfig({ REELAY_DATA_DIR: os.tmpdir(), REELAY_DATABASE_POOL_SIZE: '0' })).toThrow(/database_pool_size/);
    expect(loadConfig({ REELAY_DATA_DIR: os.tmpdir() }).database_pool_size).toBe(10);
  });
});

if (await postgresReachable()) {
  const database = await createTestDatabase();
  afterAll(() => database.drop());

  describe('database_pool_size on PostgreSQL', () => {
    it('caps the connections the store opens', async () => {
      const store = await openStore(loadConfig({ REELAY_DATA_DIR: os.tmpdir(), REELAY_DATABASE_URL: database.url, REELAY_DATABASE_POOL_SIZE: '3' }));
      try {
        expect(store).toBeInstanceOf(PostgresStore);
        const pool = (store as PostgresStore).pool;
        // Six reads at once through a pool of three: never more than three connections.
        await Promise.all(Array.from({ length: 6 }, () => pool.query('SELECT pg_sleep(0.05)')));
        expect(pool.totalCount).toBeLessThanOrEqual(3);
        expect(pool.options.max).toBe(3);
      } finally {
        await store.close();
      }
    });
  });
} else {
  skipWithoutPostgres('database_pool_size on PostgreSQL');
}
