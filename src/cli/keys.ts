/**
 * `reelay keys create|list|topup|revoke`: manage API keys directly in the configured store, SQLite or
 * PostgreSQL (works while the gateway runs).
 */
import type { Command } from 'commander';
import { loadConfig } from '../config/load.ts';
import { ApiKeys } from '../accounts/apiKeys.ts';
import { formatMoney, parseMoney } from '../billing/money.ts';
import { modelIds } from '../models/registry.ts';
import { openStore } from '../store/open.ts';
import type { Store } from '../store/types.ts';

async function withStore<T>(fn: (store: Store) => Promise<T>): Promise<T> {
  // The store the gateway uses: PostgreSQL when REELAY_DATABASE_URL is set, else the SQLite file.
  const store = await openStore(loadConfig());
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

function money(v: string): number {
  const m = parseMoney(v);
  if (m === undefined || m < 0) throw new Error(`${JSON.stringify(v)} is not an amount (a decimal ≥ 0 with at most 6 places)`);
  return m;
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${JSON.stringify(v)} is not a positive integer`);
  return n;
}

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('Manage API keys.');

  keys
    .command('create')
    .description('Create an API key and print it (it is shown only once).')
    .requiredOption('--name <name>', 'a name for the key')
    .option('--balance <amount>', 'opening balance', '0')
    .option('--rpm <n>', 'requests per minute')
    .option('--max-concurrent <n>', 'unfinished tasks at once')
    .option('--models <ids>', `comma-separated models the key may use (of ${modelIds().join(', ')})`)
    .option('--json', 'print JSON')
    .action(async (o: { name: string; balance: string; rpm?: string; maxConcurrent?: string; models?: string; json?: boolean }) => {
      const models = o.models ? o.models.split(',').map((s) => s.trim()).filter(Boolean) : null;
      const unknown = models?.filter((m) => !modelIds().includes(m)) ?? [];
      if (unknown.length) throw new Error(`unknown model(s): ${unknown.join(', ')}`);
      const { record, key } = await withStore((store) =>
        new ApiKeys(store).create({
          name: o.name,
          balanceMicros: money(o.balance),
          rateLimitRpm: o.rpm ? positiveInt(o.rpm) : null,
          maxConcurrentTasks: o.maxConcurrent ? positiveInt(o.maxConcurrent) : null,
          models,
        }),
      );
      if (o.json) {
        process.stdout.write(`${JSON.stringify({ id: record.id, key, name: record.name, balance: Number(formatMoney(record.balanceMicros)) })}\n`);
      } else {
        process.stdout.write(`${key}\n`);
        process.stderr.write(`created ${record.id} "${record.name}" with balance ${formatMoney(record.balanceMicros)}; the key above is shown only once\n`);
      }
    });

  keys
    .command('list')
    .description('List keys with their balances.')
    .action(async () => {
      const all = await withStore((s) => s.listKeys());
      for (const k of all) {
        process.stdout.write(
          `${k.id}  ${k.prefix}…  ${k.name}  balance ${formatMoney(k.balanceMicros)}  held ${formatMoney(k.heldMicros)}  spent ${formatMoney(k.spentMicros)}${k.revokedAt ? '  REVOKED' : ''}\n`,
        );
      }
    });

  keys
    .command('topup <id> <amount>')
    .description('Add to a key’s balance.')
    .action(async (id: string, amount: string) => {
      const micros = money(amount);
      if (micros === 0) throw new Error('amount must be greater than 0');
      const k = await withStore((s) => s.adjustBalance(id, micros, 'topup', 'reelay keys topup', Date.now()));
      if (!k) throw new Error(`no key ${id}`);
      process.stdout.write(`${k.id} balance ${formatMoney(k.balanceMicros)}\n`);
    });

  keys
    .command('revoke <id>')
    .description('Revoke a key (its requests get 401 within a few seconds).')
    .action(async (id: string) => {
      const k = await withStore((s) => s.revokeKey(id, Date.now()));
      if (!k) throw new Error(`no key ${id}`);
      process.stdout.write(`${k.id} revoked\n`);
    });
}
