import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runStoreContract } from '../contracts/store.contract.ts';
import { SqliteStore } from '../../src/store/sqlite/sqliteStore.ts';

runStoreContract('sqlite', async () => {
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'reelay-sqlite-'));
  const store = new SqliteStore(path.join(dir, 'reelay.db'));
  return {
    store,
    cleanup: async () => {
      await store.close();
      await fs.promises.rm(dir, { recursive: true, force: true });
    },
  };
});
