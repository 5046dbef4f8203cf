/**
 * Picks the store the configuration asks for: PostgreSQL when `database_url` is set (several gateway
 * processes share it), else the embedded SQLite file `<data_dir>/reelay.db`. Either way the schema is
 * migrated before the store is returned.
 */
import path from 'node:path';
import type { ReelayConfig } from '../config/schema.ts';
import { PostgresStore, type PostgresStoreOptions } from './postgres/pgStore.ts';
import { SqliteStore } from './sqlite/sqliteStore.ts';
import type { Store } from './types.ts';

export async function openStore(
  config: Pick<ReelayConfig, 'database_url' | 'data_dir' | 'sqlite_synchronous'> & { sqlite_cache_mib?: number; sqlite_mmap_mib?: number; database_pool_size?: number },
  pgOptions: PostgresStoreOptions = {},
): Promise<Store> {
  if (config.database_url) return PostgresStore.open(config.database_url, { poolSize: config.database_pool_size, ...pgOptions });
  return new SqliteStore(path.join(config.data_dir, 'reelay.db'), {
    synchronous: config.sqlite_synchronous,
    cacheMiB: config.sqlite_cache_mib,
    mmapMiB: config.sqlite_mmap_mib,
  });
}
