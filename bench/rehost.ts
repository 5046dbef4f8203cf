/**
 * Issue 5 §6 — re-hosting: N concurrent result downloads (100 × 50 MiB in the full run) from a fake
 * upstream on loopback into reelay's storage, end to end: N tasks submitted to one reelay process with an
 * `apimart` channel to the fake, whose jobs all finish at about the same time; reelay polls, sees the
 * results, and copies each into its file storage (fsynced) before completing the task.
 *
 * Throughput: bytes ÷ (first download request at the upstream → last task completed). Reference: a plain
 * stream copy of the same bytes from the same server (copyMain.ts: GET piped into a file, fsynced), timed
 * the same way (first request → last file synced). Memory: reelay's RSS growth from just before the first
 * download to the end, against the 200 MB the issue allows.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { createKey, openStore } from './lib/prefill.ts';
import { startGateway } from './lib/gateway.ts';
import { RssSampler, spawnChild } from './lib/proc.ts';
import { figure, type Figure } from './lib/report.ts';
import { T2V_BODIES } from './lib/bodies.ts';

export interface RehostOptions {
  downloads: number;
  bytes: number;
}

export interface RehostOutcome {
  figures: Figure[];
  raw: Record<string, unknown>;
}

interface Media {
  requests: number;
  finished: number;
  bytes: number;
  firstStart: number;
  lastEnd: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const LATENCY_MS = 5_000;

export async function rehost(dir: string, o: RehostOptions, log: (s: string) => void): Promise<RehostOutcome> {
  const upstream = await spawnChild<{ url: string; mediaUrl: string; apiKey: string }>('fake upstream', 'upstreamMain.ts', {
    env: { UPSTREAM_LATENCY_MS: String(LATENCY_MS), UPSTREAM_MEDIA_BYTES: String(o.bytes) },
  });
  const up = await upstream.ready;
  const total = o.downloads * o.bytes;
  try {
    // The reference: a plain stream copy — run before reelay and again after it; the faster one counts,
    // so reelay is not flattered by the order (page cache, a busier minute).
    const copies: { seconds: number; growth: number }[] = [];
    const plainCopy = async (round: number) => {
      log(`  plain stream copy of ${o.downloads} × ${(o.bytes / 2 ** 20).toFixed(0)} MiB`);
      const copier = await spawnChild<{ pid: number }>('copy', 'copyMain.ts');
      const copyDir = path.join(dir, `copy-${round}`);
      const urls = Array.from({ length: o.downloads }, (_, i) => `${up.mediaUrl}/media/copy-${i}.mp4`);
      await upstream.call('resetMedia');
      const rssCopy = new RssSampler(copier.pid, 100);
      const before = rssCopy.sample();
      const copied = await copier.call<{ startedAt: number; endedAt: number; bytes: number }>('copy', { urls, dir: copyDir });
      rssCopy.stop();
      await copier.stop();
      const media = await upstream.call<Media>('media');
      if (copied.bytes !== total) throw new Error(`plain copy: ${copied.bytes} bytes copied of ${total}`);
      fs.rmSync(copyDir, { recursive: true, force: true });
      copies.push({ seconds: (copied.endedAt - media.firstStart) / 1000, growth: rssCopy.max - before });
    };
    await plainCopy(0);

    // reelay.
    log(`  reelay re-hosting ${o.downloads} results`);
    const dataDir = path.join(dir, 'data');
    const store = openStore(dataDir);
    const key = await createKey(store);
    await store.close();
    const gw = await startGateway({
      dataDir,
      role: 'all',
      profileAs: 'rehost',
      config: {
        channels: [{ name: 'fake', provider: 'apimart', base_url: up.url, api_key: up.apiKey, poll_rps: 1000, poll_min_ms: 250, poll_max_ms: 250, webhooks: false }],
        allow_private_hosts: ['127.0.0.1'],
      },
    });
    const rss = new RssSampler(gw.pid, 100);
    const db = new Database(path.join(dataDir, 'reelay.db'), { readonly: true, fileMustExist: true });
    let rssBefore = 0;
    let media: Media;
    let lastCompleted = 0;
    try {
      await upstream.call('resetMedia');
      const submitted = await Promise.all(
        Array.from({ length: o.downloads }, async (_, i) => {
          const res = await fetch(`${gw.url}/v1/videos/generations`, {
            method: 'POST',
            headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json' },
            body: JSON.stringify(T2V_BODIES[i % T2V_BODIES.length]),
          });
          if (res.status !== 200) throw new Error(`rehost: submit answered ${res.status}: ${await res.text()}`);
          return ((await res.json()) as { data: { task_id: string }[] }).data[0].task_id;
        }),
      );
      const phase = db.prepare(`SELECT phase, count(*) AS n FROM tasks GROUP BY phase`);
      // RSS just before the downloads: every task upstream, none finished there yet.
      for (;;) {
        const p = Object.fromEntries((phase.all() as { phase: string; n: number }[]).map((r) => [r.phase, r.n]));
        if ((p.submitted ?? 0) + (p.collecting ?? 0) + (p.done ?? 0) >= o.downloads) break;
        await sleep(50);
      }
      for (;;) {
        if ((await upstream.call<Media>('media')).requests > 0) break;
        rssBefore = rss.sample();
        await sleep(20);
      }
      const deadline = Date.now() + 600_000;
      for (;;) {
        const p = Object.fromEntries((phase.all() as { phase: string; n: number }[]).map((r) => [r.phase, r.n]));
        if ((p.done ?? 0) >= o.downloads) break;
        if (Date.now() > deadline) throw new Error(`rehost: not all tasks done after 10 minutes: ${JSON.stringify(p)}`);
        await sleep(100);
      }
      const rows = db.prepare(`SELECT status, completed_at AS c, result FROM tasks WHERE id IN (${submitted.map(() => '?').join(',')})`).all(...submitted) as {
        status: string;
        c: number;
        result: string | null;
      }[];
      const bad = rows.filter((r) => r.status !== 'completed');
      if (bad.length) throw new Error(`rehost: ${bad.length} tasks did not complete: ${JSON.stringify(bad[0])}`);
      const stored = rows.reduce((a, r) => a + (JSON.parse(r.result!) as { videos: { bytes: number }[] }).videos.reduce((x, v) => x + v.bytes, 0), 0);
      if (stored !== total) throw new Error(`rehost: ${stored} bytes stored of ${total}`);
      lastCompleted = Math.max(...rows.map((r) => r.c));
      media = await upstream.call<Media>('media');
    } finally {
      rss.stop();
      db.close();
      await gw.stop();
    }
    await plainCopy(1);
    const copySeconds = Math.min(...copies.map((c) => c.seconds));
    const seconds = (lastCompleted - media.firstStart) / 1000;
    const growth = rss.maxSince(media.firstStart) - rssBefore;
    const mbps = (b: number, s: number) => b / 2 ** 20 / s;
    const figures = [
      figure({
        scenario: 're-hosting',
        name: `throughput, ${o.downloads} × ${(o.bytes / 2 ** 20).toFixed(0)} MiB`,
        value: mbps(total, seconds),
        unit: 'MiB/s',
        reference: { name: 'plain stream copy (faster of two)', value: mbps(total, copySeconds) },
        target: { on: 'ratio', op: '>=', limit: 0.8 },
      }),
      figure({
        scenario: 're-hosting',
        name: 'RSS growth while copying',
        value: growth / 1e6,
        unit: 'MB',
        reference: { name: 'limit', value: 200 },
        target: { on: 'ratio', op: '<=', limit: 1 },
        note: `RSS ${(rssBefore / 1e6).toFixed(0)} MB before, ${(rss.maxSince(media.firstStart) / 1e6).toFixed(0)} MB at most; the plain copy grew ${(Math.max(...copies.map((c) => c.growth)) / 1e6).toFixed(0)} MB`,
      }),
    ];
    return { figures, raw: { options: o, copies, reelay: { seconds, rssBefore, rssMax: rss.maxSince(media.firstStart), media } } };
  } finally {
    await upstream.stop();
  }
}
