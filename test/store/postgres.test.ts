/**
 * The shared store contract against PostgreSQL: one database for the file, migrated by the first
 * PostgresStore.open as a gateway would, emptied before each test (the contract counts unfinished tasks and
 * lease owners store-wide); every test gets a new store with its own pool.
 */
import { runStoreContract } from '../contracts/store.contract.ts';
import { PostgresStore } from '../../src/store/postgres/pgStore.ts';
import { emptyStoreTables, postgresReachable, skipWithoutPostgres, testDatabaseForFile } from '../helpers/postgres.ts';

if (await postgresReachable()) {
  const { database, admin } = await testDatabaseForFile();
  runStoreContract('postgres', async () => {
    const store = await PostgresStore.open(database.url, { poolSize: 8 });
    await emptyStoreTables(admin);
    return { store, cleanup: () => store.close() };
  });
} else {
  skipWithoutPostgres('postgres store contract');
}
