/**
 * The group commit's durable mode: a write's promise settles only after a WAL sync that began after its
 * commit has finished; writes arriving during a sync are committed together once a turn of the event loop
 * brings no new one (or after the sync, if it ends first) and synced after it; a failed sync fails
 * the writes it covered; refusals roll back only their own changes, and a batch without refusals runs
 * each write once, without savepoints.
 */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { deferred, removeScratch, scratchDb, scratchDir, tick, turns } from '../helpers/sqliteScratch.ts';
import { GroupCommit } from '../../src/store/sqlite/groupCommit.ts';
import { SqliteStore } from '../../src/store/sqlite/sqliteStore.ts';

afterEach(removeScratch);

/** A durable group commit over scratch table `t` whose syncs the test ends itself (`syncs[i].resolve()`). */
function heldSyncs() {
  const db = scratchDb();
  const syncs: ReturnType<typeof deferred>[] = [];
  const gc = new GroupCommit(db, 256, () => {
    const d = deferred();
    syncs.push(d);
    return d.promise;
  });
  const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
  const count = () => (db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n;
  return { gc, syncs, insert, count };
}

describe('group commit', () => {
  it('settles a write only after a sync that began after its commit', async () => {
    const { gc, syncs, insert, count } = heldSyncs();
    const settled: string[] = [];
    const a = gc.run(() => insert.run(1)).then(() => settled.push('a'));
    await tick();
    expect(syncs).toHaveLength(1); // a committed, its sync running
    expect(count()).toBe(1);
    const b = gc.run(() => insert.run(2)).then(() => settled.push('b'));
    await tick();
    // b came while a's sync ran: not committed in the turn it arrived (more writes may be on their way)...
    expect(count()).toBe(1);
    await turns(2);
    // ...but once a turn brought nothing new, during that sync, and not covered by it: no second sync yet.
    expect(count()).toBe(2);
    expect(gc.commitsDuringSync).toBe(1);
    expect(syncs).toHaveLength(1);
    expect(settled).toEqual([]);
    syncs[0].resolve();
    await a;
    // a's sync has ended: b's own sync starts at once, and b waits for it.
    expect(syncs).toHaveLength(2);
    await tick();
    expect(settled).toEqual(['a']);
    syncs[1].resolve();
    await b;
    expect(settled).toEqual(['a', 'b']);
    expect(gc.syncs).toBe(2);
  });

  it('writes arriving turn after turn during a sync are committed together, after the first quiet turn', async () => {
    const { gc, syncs, insert, count } = heldSyncs();
    const writes = [gc.run(() => insert.run(0))];
    await tick();
    expect(gc.batches).toBe(1);
    for (let v = 1; v <= 4; v++) {
      writes.push(gc.run(() => insert.run(v)));
      await tick();
      expect(count()).toBe(1); // still arriving: nothing committed during the sync yet
    }
    await turns(2);
    expect(count()).toBe(5);
    expect(gc.batches).toBe(2); // the four in one batch
    syncs[0].resolve();
    await tick();
    syncs[1].resolve();
    await Promise.all(writes);
    expect(gc.syncs).toBe(2);
  });

  it('commits once at most during a sync: later writes wait for its end and are committed together', async () => {
    const { gc, syncs, insert, count } = heldSyncs();
    const writes = [gc.run(() => insert.run(0))];
    await tick();
    writes.push(gc.run(() => insert.run(1)));
    await turns(3);
    expect(count()).toBe(2); // the first write of the sync, committed during it
    // A slow disk: writes keep trickling in during the same sync, with quiet turns between them.
    for (let v = 2; v <= 4; v++) {
      writes.push(gc.run(() => insert.run(v)));
      await turns(3);
    }
    expect(count()).toBe(2);
    expect(gc.commitsDuringSync).toBe(1);
    syncs[0].resolve();
    await turns(4);
    expect(count()).toBe(5);
    expect(gc.batches).toBe(3); // 0; 1 during the sync; 2-4 together after it
    syncs[1].resolve();
    await turns(3);
    expect(syncs).toHaveLength(3); // 2-4's own sync, begun when the one of 1 ended
    syncs[2].resolve();
    await Promise.all(writes);
  });

  it('a write arriving during a sync is committed after it when the sync ends first', async () => {
    const { gc, syncs, insert, count } = heldSyncs();
    const a = gc.run(() => insert.run(1));
    await tick();
    const b = gc.run(() => insert.run(2));
    syncs[0].resolve(); // ends before a quiet turn has passed
    await a;
    expect(gc.commitsDuringSync).toBe(0);
    await turns(3);
    expect(syncs).toHaveLength(2);
    expect(gc.commitsDuringSync).toBe(0);
    syncs[1].resolve();
    await b;
    expect(count()).toBe(2);
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
