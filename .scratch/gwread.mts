import fs from 'node:fs';
import { loadConfig } from '/work/main/src/config/load.ts';
import { startGateway } from '/work/main/src/runtime/gateway.ts';
import { silentLogger } from '/work/main/src/runtime/logger.ts';
const dir = '/tmp/readdb-copy';
fs.rmSync(dir, { recursive: true, force: true }); fs.cpSync('/tmp/readdb', dir, { recursive: true });
const ids: string[] = JSON.parse(fs.readFileSync(dir + '/ids.json', 'utf8'));
const cfg = loadConfig({ REELAY_DATA_DIR: dir, PORT: '0', HOST: '127.0.0.1', REELAY_ADMIN_TOKEN: 'x'.repeat(32), REELAY_ROLE: 'api' } as any);
const gw = await startGateway(cfg, { logger: silentLogger, announce: () => undefined });
const store: any = gw.ctx.store;
const n = 200000;
for (let round = 0; round < 3; round++) {
  let t = process.hrtime.bigint(); let c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) store.s.taskViewById.get(ids[(Math.random() * ids.length) | 0]);
  let c = process.cpuUsage(c0);
  console.log('raw stmt', (Number(process.hrtime.bigint() - t) / n / 1000).toFixed(2), 'µs', (c.user / n).toFixed(2), (c.system / n).toFixed(2));
  t = process.hrtime.bigint(); c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) await store.getTaskView(ids[(Math.random() * ids.length) | 0]);
  c = process.cpuUsage(c0);
  console.log('getTaskView', (Number(process.hrtime.bigint() - t) / n / 1000).toFixed(2), 'µs', (c.user / n).toFixed(2), (c.system / n).toFixed(2));
}
await gw.stop?.(); process.exit(0);
