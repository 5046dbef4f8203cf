/**
 * The group commit's durable mode: a write's promise settles only after a WAL sync that began after its
 * commit has finished; writes arriving during a sync are committed together after it; a failed sync fails
 * the writes it covered; refusals roll back only their own changes, and a batch without refusals runs
 * each write once, without savepoints.
 */
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { deferred, removeScratch, scratchDb, scratchDir, tick } from '../helpers/sqliteScratch.ts';
import { GroupCommit } from '../../src/store/sqlite/groupCommit.ts';
import { SqliteStore } from '../../src/store/sqlite/sqliteStore.ts';
import { loadConfig } from '../../src/config/load.ts';

afterEach(removeScratch);

describe('group commit', () => {
  it('settles a write only after a sync that began after its commit', async () => {
    const db = scratchDb();
    const syncs: ReturnType<typeof deferred>[] = [];
    const gc = new GroupCommit(db, 256, () => {
      const d = deferred();
      syncs.push(d);
      return d.promise;
    });
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    const settled: string[] = [];
    const a = gc.run(() => insert.run(1)).then(() => settled.push('a'));
    await tick();
    expect(syncs).toHaveLength(1); // a committed, its sync running
    expect(db.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 1 });
    const b = gc.run(() => insert.run(2)).then(() => settled.push('b'));
    await tick();
    // b came while a's sync ran: it waits for that sync to end, then is committed and synced on its own.
    expect(syncs).toHaveLength(1);
    expect(db.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 1 });
    syncs[0].resolve();
    await a;
    // a is answered before b is committed: a's client can send its next request while b commits.
    expect(db.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 1 });
    await tick();
    await tick();
    expect(settled).toEqual(['a']);
    expect(syncs).toHaveLength(2);
    expect(db.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 2 });
    syncs[1].resolve();
    await b;
    expect(settled).toEqual(['a', 'b']);
    expect(gc.syncs).toBe(2);
  });

  it('fails the writes a failed sync covered', async () => {
    const db = scratchDb();
    const gc = new GroupCommit(db, 256, () => Promise.reject(new Error('EIO')));
    await expect(gc.run(() => db.prepare('INSERT INTO t (v) VALUES (1)').run())).rejects.toThrow('EIO');
  });

  it('rolls back a refused write alone, in the same batch as others', async () => {
    const db = scratchDb();
    const gc = new GroupCommit(db, 256, () => Promise.resolve());
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    const results = await Promise.allSettled([gc.run(() => insert.run(1)), gc.run(() => (insert.run(2), insert.run(-1))), gc.run(() => insert.run(3))]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(db.prepare('SELECT v FROM t ORDER BY v').all()).toEqual([{ v: 1 }, { v: 3 }]);
    expect(gc.batches).toBe(1);
    expect(gc.reruns).toBe(1); // the plain transaction was rolled back whole, then run write by write
  });

  it('runs each write once while none is refused, and keeps savepoints for a while after a refusal', async () => {
    const db = scratchDb();
    const gc = new GroupCommit(db, 256, () => Promise.resolve());
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    let calls = 0;
    const write = (v: number) => () => (calls++, insert.run(v));
    await Promise.all([gc.run(write(1)), gc.run(write(2)), gc.run(write(3))]);
    expect(calls).toBe(3);
    expect(gc.reruns).toBe(0);

    // One refusal: the plain pass stops at it (4, -1), then the batch runs write by write (4, -1, 5).
    calls = 0;
    const refused = await Promise.allSettled([gc.run(write(4)), gc.run(write(-1)), gc.run(write(5))]);
    expect(refused.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(calls).toBe(5);
    calls = 0;
    const next = await Promise.allSettled([gc.run(write(6)), gc.run(write(-2))]);
    expect(next.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
    expect(calls).toBe(2); // within the second after a refusal, batches start with savepoints
    expect(gc.reruns).toBe(1);
    // Each accepted write's row is there once; no refused write left anything.
    expect(db.prepare('SELECT v FROM t ORDER BY v').all()).toEqual([1, 2, 3, 4, 5, 6].map((v) => ({ v })));
  });

  it('a refusal caused by an earlier write of the same batch is refused alone', async () => {
    const db = scratchDb();
    db.exec('INSERT INTO t (v) VALUES (2)');
    const gc = new GroupCommit(db, 256, () => Promise.resolve());
    const take = db.prepare('UPDATE t SET v = v - 1');
    const results = await Promise.allSettled([1, 2, 3, 4].map(() => gc.run(() => take.run())));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'rejected']);
    expect(db.prepare('SELECT v FROM t').get()).toEqual({ v: 0 });
  });

  describe('commit pacing', () => {
    const DELAY_MS = 40;
    /** A group commit whose syncs the test ends, each recorded with the time its commit was synced from. */
    function pacedCommit(maxBatch = 256) {
      const db = scratchDb();
      const syncs: { at: number; rows: number; done: ReturnType<typeof deferred> }[] = [];
      const count = db.prepare('SELECT count(*) AS n FROM t');
      const gc = new GroupCommit(
        db,
        maxBatch,
        () => {
          const done = deferred();
          syncs.push({ at: performance.now(), rows: (count.get() as { n: number }).n, done });
          return done.promise;
        },
        null,
        { delayMs: DELAY_MS, siblings: 3 },
      );
      const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
      const write = (v: number) => gc.run(() => insert.run(v));
      const until = async (n: number) => {
        while (syncs.length < n) await new Promise((r) => setTimeout(r, 1));
      };
      return { gc, syncs, write, until };
    }

    it('under load, waits until the delay after the previous commit and takes in the writes arriving meanwhile', async () => {
      const { gc, syncs, write, until } = pacedCommit();
      const first = [1, 2, 3].map(write); // a round of 3 writes: the siblings threshold
      await until(1);
      const waiting = [write(4)]; // arrives during the sync
      syncs[0].done.resolve();
      await Promise.all(first);
      await tick();
      await tick();
      expect(syncs).toHaveLength(1); // not committed in the next turn, as without pacing
      waiting.push(write(5), write(6)); // arrive during the wait: the same batch
      await until(2);
      expect(syncs[1].at - syncs[0].at).toBeGreaterThanOrEqual(DELAY_MS - 1);
      expect(syncs[1].rows).toBe(6);
      syncs[1].done.resolve();
      await Promise.all(waiting);
      expect(gc.batches).toBe(2);
      expect(gc.writes).toBe(6);
    });

    it('commits in the next turn after a quiet round, or when a quarter batch waits', async () => {
      // A round of 1 write is below the siblings threshold: the write that waited for its sync commits at once.
      const quiet = pacedCommit();
      const a = quiet.write(1);
      await quiet.until(1);
      const b = quiet.write(2);
      quiet.syncs[0].done.resolve();
      await a;
      await quiet.until(2);
      expect(quiet.syncs[1].at - quiet.syncs[0].at).toBeLessThan(DELAY_MS / 2);
      quiet.syncs[1].done.resolve();
      await b;

      // A busy round, but a quarter of a batch (4 of 16) already waits: no reason to wait for more.
      const full = pacedCommit(16);
      const first = [1, 2, 3].map(full.write);
      await full.until(1);
      const waiting = [4, 5, 6, 7].map(full.write);
      full.syncs[0].done.resolve();
      await Promise.all(first);
      await full.until(2);
      expect(full.syncs[1].at - full.syncs[0].at).toBeLessThan(DELAY_MS / 2);
      expect(full.syncs[1].rows).toBe(7);
      full.syncs[1].done.resolve();
      await Promise.all(waiting);
    });

    it('does not wait longer than the delay when the sync itself took that long', async () => {
      const { syncs, write, until } = pacedCommit();
      const first = [1, 2, 3].map(write);
      await until(1);
      const waiting = write(4);
      await new Promise((r) => setTimeout(r, DELAY_MS + 5)); // a slow sync: the delay has passed
      syncs[0].done.resolve();
      await Promise.all(first);
      const resolvedAt = performance.now();
      await until(2);
      expect(syncs[1].at - resolvedAt).toBeLessThan(DELAY_MS / 2);
      syncs[1].done.resolve();
      await waiting;
    });

    it('defaults to 2 ms and is configurable', async () => {
      expect(loadConfig({ REELAY_DATA_DIR: os.tmpdir() }).sqlite_commit_delay_ms).toBe(2);
      expect(loadConfig({ REELAY_DATA_DIR: os.tmpdir(), REELAY_SQLITE_COMMIT_DELAY_MS: '0' }).sqlite_commit_delay_ms).toBe(0);
      expect(() => loadConfig({ REELAY_DATA_DIR: os.tmpdir(), REELAY_SQLITE_COMMIT_DELAY_MS: '-1' })).toThrow(/sqlite_commit_delay_ms/);
    });
  });

  it('a store with synchronous=FULL syncs the WAL before answering; NORMAL does not', async () => {
    for (const [synchronous, expectSyncs] of [['FULL', true], ['NORMAL', false]] as const) {
      const dir = scratchDir();
      const store = new SqliteStore(path.join(dir, 'reelay.db'), { synchronous });
      await store.createKey({ id: 'key_1', name: 'k', prefix: 'rk_x', hash: 'h', balanceMicros: 5, rateLimitRpm: null, maxConcurrentTasks: null, models: null, webhookSecret: 's', createdAt: 1 });
      expect(store.commit.syncs > 0).toBe(expectSyncs);
      expect(store.db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL on the connection either way
      await store.close();
    }
  });
});
