/**
 * WAL checkpoints on a thread of their own, so the event loop never copies pages or waits for a disk.
 *
 * SQLite's automatic checkpoint runs inside the COMMIT that crosses `wal_autocheckpoint` pages: on the
 * event loop, with an fsync of the WAL and one of the database file. Under submits that was 2–4 ms about
 * 24 times a second (1,000 pages), 7 % of the loop's time, every request waiting behind it.
 *
 * Here a worker thread with its own connection copies the WAL into the database file while the gateway
 * keeps committing (`backfill`). A WAL only starts again from its beginning when a write finds every frame
 * in it copied; with commits arriving all the time that moment never comes by itself (a concurrent
 * checkpoint is always a few commits behind), and the file would grow without end. So the group commit
 * ends each round with `finish` instead of its usual fdatasync, while its writes wait for a sync anyway:
 * the worker syncs the WAL (what the waiting writes need), copies the few frames committed since the
 * backfill, and syncs the database file. The next commit then writes from the start of the WAL
 * (docs/decisions/0012-performance.md).
 *
 * The same thread runs reads too long for the event loop (`readValue`): the unfinished-task counts of the
 * queue limits and the metrics scan an index of every unfinished task, 6–9 ms with 175,000–250,000 of them,
 * and on the event loop every request waited behind them. On this connection a read sees the last commit,
 * as it would on the loop.
 *
 * The worker is plain JavaScript evaluated in the thread: it needs no TypeScript loader.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 10000');
// Checkpoints on this connection sync the WAL before copying and the database file after, as the
// gateway's own connection would.
db.pragma('synchronous = NORMAL');
db.pragma('wal_autocheckpoint = 0');
// Its reads (the counts below) scan whole indexes, read again after every commit of the gateway's: through
// the memory map they cost no read(2) per page.
db.pragma('mmap_size = ' + workerData.mmapBytes);
const walFd = fs.openSync(workerData.file + '-wal', 'r+');
// Prepared at their first use, by SQL text.
const reads = new Map();
parentPort.on('message', ({ id, op, sql, args }) => {
  if (op === 'close') {
    fs.closeSync(walFd);
    db.close();
    process.exit(0);
  }
  if (op === 'read') {
    try {
      let read = reads.get(sql);
      if (!read) reads.set(sql, (read = db.prepare(sql).pluck()));
      parentPort.postMessage({ id, value: read.get(...args) });
    } catch (e) {
      parentPort.postMessage({ id, error: e instanceof Error ? e.message : String(e) });
    }
    return;
  }
  try {
    // finish: the writes waiting for this round are durable once the WAL is synced, whether or not
    // the checkpoint below finds frames to copy, so they are told at once.
    if (op === 'finish') {
      fs.fdatasyncSync(walFd);
      parentPort.postMessage({ id, synced: true });
    }
    const [r] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ id, log: r.log, checkpointed: r.checkpointed });
  } catch (e) {
    parentPort.postMessage({ id, error: e instanceof Error ? e.message : String(e) });
  }
});
`;

export interface CheckpointResult {
  /** Frames in the WAL, and frames copied to the database file (all of them when equal). */
  log: number;
  checkpointed: number;
}

type Reply = CheckpointResult | { value: unknown };

export class WalCheckpointer {
  private worker: Worker | null = null;
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve(r: Reply): void; reject(e: Error): void; synced?: () => void }>();
  private failure: Error | null = null;

  /** `mmapBytes`: how much of the file the thread's connection reads through a memory map (as the gateway's). */
  constructor(
    private readonly file: string,
    private readonly mmapBytes = 0,
  ) {}

  /** The thread starts with the first checkpoint: a store that is only read, or a one-off command, has none. */
  private thread(): Worker {
    if (this.worker) return this.worker;
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file: this.file, driver, mmapBytes: this.mmapBytes } });
    // An idle checkpointer does not keep the process alive.
    worker.unref();
    worker.on('message', (m: Reply & { id: number; error?: string; synced?: true }) => {
      const w = this.waiting.get(m.id);
      if (!w) return;
      if (m.synced) return w.synced?.();
      this.waiting.delete(m.id);
      if (m.error !== undefined) w.reject(new Error(`the store's thread failed: ${m.error}`));
      else w.resolve(m);
    });
    worker.on('error', (e) => this.fail(e));
    worker.on('exit', (code) => this.fail(new Error(`the WAL checkpoint thread has ended (code ${code})`)));
    this.worker = worker;
    return worker;
  }

  /** Copies what the WAL holds into the database file while commits go on. */
  async backfill(): Promise<CheckpointResult> {
    return (await this.call({ op: 'backfill' })) as CheckpointResult;
  }

  /**
   * Syncs the WAL, then copies what is left of it. `synced` is called right after the WAL's sync, before the
   * copy and the database file's sync: every commit so far is durable then. If that sync fails, `synced` is
   * not called and this rejects.
   */
  async finish(synced?: () => void): Promise<CheckpointResult> {
    return (await this.call({ op: 'finish' }, synced)) as CheckpointResult;
  }

  /** The first column of the first row `sql` reads with `args`, as of the last commit. */
  async readValue(sql: string, args: unknown[]): Promise<unknown> {
    return ((await this.call({ op: 'read', sql, args })) as { value: unknown }).value;
  }

  /** Closes the thread's connection and ends the thread. */
  async close(): Promise<void> {
    const worker = this.worker;
    if (!worker || this.failure) return;
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    // Held open until the thread has closed its connection: unref'd, the process could end first.
    worker.ref();
    worker.postMessage({ op: 'close' });
    await exited;
  }

  private call(message: { op: 'backfill' | 'finish' } | { op: 'read'; sql: string; args: unknown[] }, synced?: () => void): Promise<Reply> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject, synced });
      this.thread().postMessage({ id, ...message });
    });
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const w of this.waiting.values()) w.reject(e);
    this.waiting.clear();
  }
}
