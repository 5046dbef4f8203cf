/**
 * WAL checkpoints off the event loop (checkpointer.ts, groupCommit.ts): two backfills in a row run beside
 * the commits; the next sync is then the checkpointer's `finish`, and the writes it covers settle once it
 * has synced the WAL (before its copy ends), while later writes wait for the copy; if the checkpointer
 * fails, plain syncs go on and SQLite's own checkpoints take over. On a real store the WAL keeps starting
 * again from its beginning instead of growing with every write. The same thread counts unfinished tasks, off
 * the event loop.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { deferred, removeScratch, scratchDb, scratchDir, tick, turns } from '../helpers/sqliteScratch.ts';
import { GroupCommit, type WalCheckpoints } from '../../src/store/sqlite/groupCommit.ts';
import { WalCheckpointer } from '../../src/store/sqlite/checkpointer.ts';
import { SqliteStore } from '../../src/store/sqlite/sqliteStore.ts';
import { newKey, newTask } from '../contracts/store.contract.ts';

afterEach(removeScratch);

/** Checkpoints whose every call waits until the test ends it. */
function fakeCheckpoints() {
  const calls: { op: 'backfill' | 'finish'; d: ReturnType<typeof deferred>; synced?: () => void }[] = [];
  const disabled: unknown[] = [];
  const c: WalCheckpoints = {
    backfill: () => {
      const d = deferred();
      calls.push({ op: 'backfill', d });
      return d.promise;
    },
    finish: (synced) => {
      const d = deferred();
      calls.push({ op: 'finish', d, synced });
      return d.promise;
    },
    disable: (e) => disabled.push(e),
  };
  return { c, calls, disabled };
}

/** A group commit over a scratch table, with fake checkpoints and its WAL syncs counted. */
function groupCommitWithFakes() {
  const db = scratchDb();
  const { c, calls, disabled } = fakeCheckpoints();
  let syncs = 0;
  const gc = new GroupCommit(db, 256, () => (syncs++, Promise.resolve()), c);
  const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
  return { db, gc, calls, disabled, insert, syncs: () => syncs };
}

/** Ends the round's two backfills (the second starts when the first has ended). */
async function backfillsDone(calls: ReturnType<typeof fakeCheckpoints>['calls']): Promise<void> {
  for (const i of [0, 1]) {
    await tick();
    expect(calls.map((x) => x.op)).toEqual(Array(i + 1).fill('backfill'));
    calls[i].d.resolve();
  }
  await tick();
}

describe('checkpoints at the group commit', () => {
  it('backfills twice beside the commits, then ends the next round with finish instead of a sync', async () => {
    const { gc, calls, insert, syncs } = groupCommitWithFakes();

    await gc.run(() => insert.run(1));
    expect(syncs()).toBe(1);
    await tick();
    // After the first round a backfill runs; writes meanwhile are committed and synced as usual.
    expect(calls.map((x) => x.op)).toEqual(['backfill']);
    await gc.run(() => insert.run(2));
    expect(syncs()).toBe(2);
    calls[0].d.resolve();
    await tick();
    // A second backfill copies what was committed during the first; the next round is still a plain sync.
    expect(calls.map((x) => x.op)).toEqual(['backfill', 'backfill']);
    await gc.run(() => insert.run(3));
    expect(syncs()).toBe(3);
    expect(calls).toHaveLength(2);
    calls[1].d.resolve();
    await tick();

    // The round after the backfills is the checkpointer's: its write settles only once finish has.
    let settled = false;
    const w = gc.run(() => insert.run(4)).then(() => (settled = true));
    await tick();
    await tick();
    expect(calls.map((x) => x.op)).toEqual(['backfill', 'backfill', 'finish']);
    expect(syncs()).toBe(3);
    expect(settled).toBe(false);
    calls[2].d.resolve();
    await w;
    expect(gc.checkpointRounds).toBe(1);
  });

  it("answers a finish round's writes once the WAL is synced, and commits nothing more until the copy is done", async () => {
    const { db, gc, calls, insert } = groupCommitWithFakes();
    await gc.run(() => insert.run(1));
    await backfillsDone(calls);

    let first = false;
    const w1 = gc.run(() => insert.run(2)).then(() => (first = true));
    await tick();
    await tick();
    expect(calls.map((x) => x.op)).toEqual(['backfill', 'backfill', 'finish']);
    // A write arriving while the checkpointer copies is not committed: the WAL must be copied whole.
    let second = false;
    const w2 = gc.run(() => insert.run(3)).then(() => (second = true));
    // Not even once the loop is quiet (writes arriving during a plain sync are committed then).
    await turns(4);
    expect(db.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 2 });
    expect(first).toBe(false);
    calls[2].synced!();
    await tick();
    expect(first).toBe(true);
    expect(second).toBe(false);
    expect(db.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 2 });
    calls[2].d.resolve();
    await Promise.all([w1, w2]);
    expect(db.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 3 });
  });

  it('a failed finish falls back to a sync for its writes and hands checkpoints back to SQLite', async () => {
    const { gc, calls, disabled, insert, syncs } = groupCommitWithFakes();
    await gc.run(() => insert.run(1));
    await backfillsDone(calls);
    const w = gc.run(() => insert.run(2));
    await tick();
    await tick();
    calls[2].d.reject(new Error('disk I/O error'));
    await w; // answered, after a plain sync
    expect(syncs()).toBe(2);
    expect(disabled).toHaveLength(1);
    // No more checkpoint calls: SQLite's automatic checkpoint does the work from now on.
    for (let i = 0; i < 3; i++) await gc.run(() => insert.run(3 + i));
    expect(calls).toHaveLength(3);
  });

  it('a failed backfill hands checkpoints back to SQLite; writes go on', async () => {
    const { db, gc, calls, disabled, insert } = groupCommitWithFakes();
    await gc.run(() => insert.run(1));
    await tick();
    calls[0].d.reject(new Error('thread ended'));
    await tick();
    expect(disabled).toHaveLength(1);
    await gc.run(() => insert.run(2));
    expect(calls).toHaveLength(1);
    expect(db.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 2 });
  });

  it('starts no backfill once told the store is closing, and lets the one in flight end', async () => {
    const { gc, calls, disabled, insert } = groupCommitWithFakes();
    await gc.run(() => insert.run(1));
    await tick();
    expect(calls.map((x) => x.op)).toEqual(['backfill']);
    gc.stopCheckpoints();
    calls[0].d.resolve();
    await tick();
    // No second copy: the thread is about to end. The round still ends with the thread's finish, which
    // the store awaits before it ends the thread.
    expect(calls).toHaveLength(1);
    const settled = gc.settled();
    await turns(3);
    expect(calls.map((x) => x.op)).toEqual(['backfill', 'finish']);
    calls[1].d.resolve();
    await settled;
    expect(disabled).toEqual([]);
  });

  it('a failed second backfill hands checkpoints back to SQLite too, with no finish', async () => {
    const { gc, calls, disabled, insert, syncs } = groupCommitWithFakes();
    await gc.run(() => insert.run(1));
    await tick();
    calls[0].d.resolve();
    await tick();
    calls[1].d.reject(new Error('thread ended'));
    await tick();
    expect(disabled).toHaveLength(1);
    await gc.run(() => insert.run(2));
    expect(calls.map((x) => x.op)).toEqual(['backfill', 'backfill']);
    expect(syncs()).toBe(2);
  });
});

describe('the checkpoint thread', () => {
  it('copies the WAL into the database file and syncs on finish', async () => {
    const dir = scratchDir();
    const file = path.join(dir, 'x.db');
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('wal_autocheckpoint = 0');
    db.exec('CREATE TABLE t (v INTEGER NOT NULL)');
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    for (let i = 0; i < 50; i++) insert.run(i);
    const c = new WalCheckpointer(file);
    try {
      const r = await c.backfill();
      expect(r.log).toBeGreaterThan(0);
      expect(r.checkpointed).toBe(r.log);
      insert.run(50);
      let synced = false;
      const f = await c.finish(() => (synced = true));
      expect(synced).toBe(true);
      expect(f.checkpointed).toBe(f.log);
    } finally {
      await c.close();
      db.close();
    }
    // Everything is in the database file itself, not only in the WAL.
    const ro = new Database(file, { readonly: true });
    expect(ro.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 51 });
    ro.close();
  });

  it('a store under steady writes keeps starting its WAL again instead of growing it', async () => {
    const dir = scratchDir();
    const store = new SqliteStore(path.join(dir, 'reelay.db'), { synchronous: 'FULL' });
    const key = await store.createKey({
      id: 'key_ckpt',
      name: 'ckpt',
      prefix: 'sk-ckpt',
      hash: 'h',
      balanceMicros: 1e12,
      rateLimitRpm: null,
      maxConcurrentTasks: null,
      models: null,
      webhookSecret: 's',
      createdAt: Date.now(),
    });
    const started = performance.now();
    let written = 0;
    // Rounds of writes until the thread has ended two rounds of the group commit (a backfill period is
    // 200 ms), or for five seconds.
    while (store.commit.checkpointRounds < 2 && performance.now() - started < 5_000) {
      await Promise.all(Array.from({ length: 20 }, () => store.adjustBalance(key.id, 1, 'topup', 'ckpt', Date.now())));
      written += 20;
    }
    expect(store.commit.checkpointRounds).toBeGreaterThanOrEqual(2);
    // The round just ended left every frame copied, so the next commit started the WAL from its beginning:
    // the WAL then holds the pages of the writes since (the last batch of 20, sent when the round's writes
    // were answered at its WAL sync, and one more), not the thousands written before.
    await store.adjustBalance(key.id, 1, 'topup', 'ckpt', Date.now());
    written += 1;
    const [wal] = store.db.pragma('wal_checkpoint(PASSIVE)') as { log: number }[];
    expect(wal.log).toBeLessThanOrEqual(24);
    expect(written).toBeGreaterThan(100);
    expect((await store.getKey(key.id))!.balanceMicros).toBe(1e12 + written);
    await store.close();
  });

  it('counts unfinished tasks on the thread, as of the last commit; on the event loop once the thread has failed', async () => {
    const store = new SqliteStore(path.join(scratchDir(), 'reelay.db'));
    try {
      const key = await store.createKey(newKey({ balanceMicros: 10_000_000 }));
      const ids: string[] = [];
      for (const model of ['viduq3', 'viduq3', 'happyhorse-1.0']) ids.push((await store.createTask(newTask(key.id, { model }), { maxConcurrentTasks: null })).task.id);
      expect(await store.countUnfinished()).toBe(3);
      expect(await store.countUnfinished('viduq3')).toBe(2);
      // A change the event loop's connection has not committed: the thread's connection does not see it, a
      // count on the loop's connection would.
      store.db.exec('BEGIN IMMEDIATE');
      store.db.prepare("UPDATE tasks SET phase = 'done', status = 'failed' WHERE id = ?").run(ids[0]);
      try {
        expect(await store.countUnfinished()).toBe(3);
        expect(await store.countUnfinished('viduq3')).toBe(2);
        (store as unknown as { checkpointer: { fail(e: Error): void } }).checkpointer.fail(new Error('thread lost'));
        expect(await store.countUnfinished()).toBe(2);
        expect(await store.countUnfinished('viduq3')).toBe(1);
      } finally {
        store.db.exec('ROLLBACK');
      }
    } finally {
      await store.close();
    }
  });
});

describe('closing a store', () => {
  it('ends the checkpoint thread cleanly right after a write: no backfill starts on a closing store', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      // A one-off command (`reelay keys create`) writes once and closes: the write's round starts a backfill,
      // and the store closes while it runs.
      for (let i = 0; i < 5; i++) {
        const store = new SqliteStore(path.join(scratchDir(), 'reelay.db'), { synchronous: 'FULL' });
        await store.createKey(newKey({ balanceMicros: 1_000_000 }));
        await store.close();
      }
      await turns(4);
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.filter((m) => m.includes('WAL checkpoints'))).toEqual([]);
  });
});
