/**
 * The disk's share of the physical limit: how long one fdatasync of a small append takes on the file
 * system of the data dir. A durable submit is answered only after its commit's fsync, so its latency
 * cannot beat this distribution.
 */
import fs from 'node:fs';
import path from 'node:path';
import { percentile } from './percentile.ts';

export function fsyncProbe(dir: string, seconds: number): { p50: number; p99: number; count: number } {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `.fsync-probe-${process.pid}`);
  const fd = fs.openSync(file, 'w');
  const page = Buffer.alloc(8192, 1);
  const times: number[] = [];
  const end = performance.now() + seconds * 1000;
  try {
    while (performance.now() < end) {
      fs.writeSync(fd, page);
      const t = performance.now();
      fs.fdatasyncSync(fd);
      times.push(performance.now() - t);
    }
  } finally {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 0.5), p99: percentile(times, 0.99), count: times.length };
}
