import { afterAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { LocalWakeBus, type WakeBus } from '../../src/runtime/wakeBus.ts';
import { RedisWakeBus } from '../../src/runtime/redisWakeBus.ts';
import { createRedis } from '../../src/runtime/redis.ts';
import { adminRedis, closedPortUrl, deleteKeys, outageProxy, redisAvailable, TEST_REDIS_URL, testPrefix } from '../helpers/redis.ts';
import { sleep, waitFor as poll } from '../helpers/wait.ts';

const up = await redisAvailable();
const prefix = testPrefix();
const admin = adminRedis();
const buses: WakeBus[] = [];
const extraClients: Redis[] = [];
let busCount = 0;

/** One bus = one gateway process. Named, so a test can find (and kill) its connections. */
function bus(url = TEST_REDIS_URL, opts: ConstructorParameters<typeof RedisWakeBus>[1] = {}): { bus: RedisWakeBus; name: string } {
  const name = `${prefix}bus${++busCount}`;
  const b = new RedisWakeBus(createRedis(url, prefix, { name }), opts);
  buses.push(b);
  return { bus: b, name };
}

/** Records what a handler received, with arrival times. */
function recorder() {
  const got: { taskId: string | undefined; at: number }[] = [];
  return {
    got,
    handler: (taskId?: string) => void got.push({ taskId, at: performance.now() }),
    ids: () => got.map((g) => g.taskId),
  };
}

const waitFor = (cond: () => boolean, what: string) => poll(cond, what, { ms: 2000, everyMs: 2 });
const waitUntil = (cond: () => Promise<boolean>, what: string) => poll(cond, what, { ms: 3000, everyMs: 5 });
const numsub = async (channel: string) => Number(((await admin.pubsub('NUMSUB', channel)) as [string, number])[1]);

async function killConnection(name: string): Promise<void> {
  const line = ((await admin.client('LIST')) as string).split('\n').find((l) => l.includes(` name=${name} `));
  if (!line) throw new Error(`no connection named ${name}`);
  await admin.client('KILL', 'ID', /^id=(\d+)/.exec(line)![1]);
}

afterAll(async () => {
  await Promise.all(buses.map((b) => b.close()));
  for (const c of extraClients) c.disconnect();
  if (up) await deleteKeys(admin, prefix); // pub/sub leaves no keys; this guards against future ones
  admin.disconnect();
});

describe.skipIf(!up)('RedisWakeBus across processes', () => {
  it('delivers task ids and general wakes to every subscribed process, the publisher included', async () => {
    const a = bus().bus;
    const [b, c] = [bus().bus, bus().bus];
    const [ra, rb, rc] = [recorder(), recorder(), recorder()];
    a.subscribe(ra.handler);
    b.subscribe(rb.handler);
    c.subscribe(rc.handler);
    await Promise.all([a.ready(), b.ready(), c.ready()]);
    expect(a.channel).toBe(`${prefix}wake`);

    a.publish('task_1');
    await waitFor(() => [ra, rb, rc].every((r) => r.ids().includes('task_1')), 'task_1 everywhere');
    c.publish();
    await waitFor(() => [ra, rb, rc].every((r) => r.got.length === 2), 'the general wake everywhere');
    for (const r of [ra, rb, rc]) expect(r.ids()).toEqual(['task_1', undefined]);
  });

  it('wakes another process within 50 ms', async () => {
    const a = bus().bus;
    const b = bus().bus;
    const rb = recorder();
    b.subscribe(rb.handler);
    await Promise.all([a.ready(), b.ready()]);
    const latencies: number[] = [];
    for (let i = 0; i < 20; i++) {
      const sent = performance.now();
      a.publish(`task_latency_${i}`);
      await waitFor(() => rb.got.length === i + 1, `wake ${i}`);
      latencies.push(rb.got[i].at - sent);
    }
    latencies.sort((x, y) => x - y);
    expect(latencies[10]).toBeLessThan(50); // median: one slow tick on a busy CI machine is not a failure
    expect(latencies[19]).toBeLessThan(250);
  });

  it('stops delivering to a closed bus and publishes nothing from one; publish-only buses never subscribe', async () => {
    const before = await numsub(`${prefix}wake`);
    const a = bus().bus;
    const [b, c] = [bus().bus, bus().bus];
    const [rb, rc] = [recorder(), recorder()];
    b.subscribe(rb.handler);
    c.subscribe(rc.handler);
    await Promise.all([a.ready(), b.ready(), c.ready()]);
    expect(await numsub(`${prefix}wake`)).toBe(before + 2); // a only publishes: no subscriber connection

    await b.close();
    expect(await numsub(`${prefix}wake`)).toBe(before + 1);
    a.publish('task_after_close');
    await waitFor(() => rc.ids().includes('task_after_close'), 'delivery to the open bus');
    await sleep(20);
    expect(rb.got).toEqual([]);

    await a.close();
    expect(() => a.publish('task_from_closed')).not.toThrow();
    c.publish('task_marker'); // sent after a's attempt: once it arrives, a's would have too
    await waitFor(() => rc.ids().includes('task_marker'), 'the marker');
    expect(rc.ids()).not.toContain('task_from_closed');
  });

  it('coalesces a burst but keeps every task id', async () => {
    const a = bus().bus;
    const b = bus().bus;
    const rb = recorder();
    b.subscribe(rb.handler);
    const wire = admin.duplicate(); // counts the messages actually published
    extraClients.push(wire);
    const onWire: string[] = [];
    wire.on('message', (_ch: string, m: string) => void onWire.push(m));
    await wire.subscribe(`${prefix}wake`);
    await Promise.all([a.ready(), b.ready()]);

    const ids = Array.from({ length: 50 }, (_, i) => `task_burst_${i}`);
    for (let round = 0; round < 5; round++) for (const id of ids) (a.publish(id), a.publish(), a.publish());
    await waitFor(() => ids.every((id) => rb.ids().includes(id)) && rb.ids().includes(undefined), 'every id and a general wake');
    await sleep(20);
    expect(onWire.sort()).toEqual(['', ...ids].sort()); // 750 publishes, 51 messages
    expect(rb.got.length).toBe(51);
  });

  it('turns a burst of too many distinct ids into a general wake', async () => {
    const a = bus(TEST_REDIS_URL, { maxIdsPerBurst: 100 }).bus;
    const b = bus().bus;
    const rb = recorder();
    b.subscribe(rb.handler);
    await Promise.all([a.ready(), b.ready()]);
    const ids = Array.from({ length: 500 }, (_, i) => `task_flood_${i}`);
    for (const id of ids) a.publish(id);
    await waitFor(() => rb.got.length > 0, 'the wake');
    await sleep(20);
    // each id delivered, or covered by a general wake that arrived after it was published
    const got = new Set(rb.ids());
    expect(got.has(undefined) || ids.every((id) => got.has(id))).toBe(true);
    expect(rb.ids()).toEqual([undefined]);
  });

  it('resubscribes after the subscriber connection drops, and publishes again after the publisher reconnects', async () => {
    const { bus: a, name: aName } = bus();
    const { bus: b, name: bName } = bus();
    const rb = recorder();
    b.subscribe(rb.handler);
    await Promise.all([a.ready(), b.ready()]);

    const subs = await numsub(`${prefix}wake`);
    await killConnection(`${bName}-sub`);
    await waitUntil(async () => (await numsub(`${prefix}wake`)) === subs - 1, 'the subscriber to drop');
    await waitUntil(async () => (await numsub(`${prefix}wake`)) === subs, 'ioredis to resubscribe');
    a.publish('task_after_sub_reconnect');
    await waitFor(() => rb.ids().includes('task_after_sub_reconnect'), 'delivery after resubscribe');

    await killConnection(aName);
    // Publishes are dropped until the publisher is ready again, so keep publishing until one arrives.
    await waitUntil(async () => {
      a.publish('task_after_pub_reconnect');
      await sleep(20);
      return rb.ids().includes('task_after_pub_reconnect');
    }, 'delivery after the publisher reconnected');
  });

  it('drops publishes made while Redis is down instead of sending them late', async () => {
    const proxy = await outageProxy();
    try {
      const a = bus(proxy.url).bus;
      const b = bus().bus;
      const rb = recorder();
      b.subscribe(rb.handler);
      await Promise.all([a.ready(), b.ready()]);
      await proxy.cut();
      await sleep(10); // the publisher sees its connection close; its first reconnect is >= 50 ms away
      a.publish('task_during_outage');
      await sleep(10);
      await proxy.restore(); // before the reconnect: anything queued would now be sent
      await waitUntil(async () => {
        a.publish('task_after_outage');
        await sleep(20);
        return rb.ids().includes('task_after_outage');
      }, 'delivery after the outage');
      expect(rb.ids()).not.toContain('task_during_outage');
    } finally {
      await proxy.close();
    }
  });
});

describe('RedisWakeBus when Redis is unreachable', () => {
  it('drops publishes silently and closes promptly', async () => {
    const url = await closedPortUrl();
    const a = bus(url).bus;
    const r = recorder();
    a.subscribe(r.handler);
    for (let i = 0; i < 10; i++) (a.publish(`task_${i}`), a.publish());
    await sleep(200);
    const started = Date.now();
    await a.close();
    expect(Date.now() - started).toBeLessThan(500);
    expect(r.got).toEqual([]);
  });
});

describe('LocalWakeBus', () => {
  it('delivers synchronously to every handler, with and without an id', () => {
    const local = new LocalWakeBus();
    const [r1, r2] = [recorder(), recorder()];
    local.subscribe(r1.handler);
    local.subscribe(r2.handler);
    local.publish('task_1');
    local.publish();
    expect(r1.ids()).toEqual(['task_1', undefined]);
    expect(r2.ids()).toEqual(['task_1', undefined]);
  });

  it('keeps delivering when a handler throws, and logs it', () => {
    const errors: unknown[] = [];
    const local = new LocalWakeBus({ error: (...args: unknown[]) => void errors.push(args) } as never);
    const r = recorder();
    local.subscribe(() => {
      throw new Error('boom');
    });
    local.subscribe(r.handler);
    expect(() => local.publish('task_1')).not.toThrow();
    expect(r.ids()).toEqual(['task_1']);
    expect(errors).toHaveLength(1);
  });

  it('delivers nothing after close', async () => {
    const local = new LocalWakeBus();
    const r = recorder();
    local.subscribe(r.handler);
    await local.close();
    local.publish('task_1');
    local.subscribe(r.handler);
    local.publish();
    expect(r.got).toEqual([]);
  });
});
