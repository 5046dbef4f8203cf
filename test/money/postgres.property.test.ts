/**
 * The money properties against PostgreSQL. One database per file, emptied before each program (a database
 * per program costs more than the program on a busy server); a restart in a program closes the pool and opens a
 * new one on the same database, as a restarted gateway would.
 */
import { vi } from 'vitest';
import { PostgresStore } from '../../src/store/postgres/pgStore.ts';
import { emptyStoreTables, postgresReachable, skipWithoutPostgres, testDatabaseForFile } from '../helpers/postgres.ts';
import { runMoneyProperties } from './storeProperties.ts';

// 60 programs of up to 25 steps, each checked against the database over the network: more than the default
// 30 s on a busy machine, and a timeout here says nothing about the money.
vi.setConfig({ testTimeout: 180_000 });

if (await postgresReachable()) {
  const { database, admin } = await testDatabaseForFile();
  // Migrates the fresh database once; the programs' own opens then find it current.
  await (await PostgresStore.open(database.url, { poolSize: 1 })).close();
  runMoneyProperties('postgres', async () => {
    await emptyStoreTables(admin);
    return {
      open: () => PostgresStore.open(database.url, { poolSize: 6 }),
      cleanup: async () => undefined,
    };
  });
} else {
  skipWithoutPostgres('postgres money properties');
}
