/**
 * The reference for re-hosting: a plain stream copy of the same bytes on loopback — N concurrent HTTP GETs
 * piped into files, each file fsynced before it counts as copied (the same guarantee reelay's storage gives
 * a stored result).
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { serveCommands } from './child.ts';

const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });

async function copyOne(url: string, file: string): Promise<number> {
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => http.get(url, { agent }, resolve).on('error', reject));
  if (res.statusCode !== 200) throw new Error(`${url}: HTTP ${res.statusCode}`);
  const out = fs.createWriteStream(file);
  await pipeline(res, out);
  const fd = await fs.promises.open(file, 'r+');
  await fd.sync();
  await fd.close();
  return (await fs.promises.stat(file)).size;
}

serveCommands({ pid: process.pid }, {
  async copy(a: { urls: string[]; dir: string }) {
    await fs.promises.mkdir(a.dir, { recursive: true });
    const t0 = Date.now();
    const sizes = await Promise.all(a.urls.map((u, i) => copyOne(u, path.join(a.dir, `${i}.mp4`))));
    return { startedAt: t0, endedAt: Date.now(), bytes: sizes.reduce((x, y) => x + y, 0), rss: process.memoryUsage().rss };
  },
});
