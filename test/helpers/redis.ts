/**
 * Redis for tests: `REELAY_TEST_REDIS_URL` (default the local Redis 7). In CI the Redis tests must run, so
 * an unreachable Redis fails the file loudly; elsewhere the tests are skipped with a message saying why.
 * Each test file uses its own random key prefix and deletes its keys afterwards, so files (and people)
 * sharing one Redis do not see each other's keys.
 */
import crypto from 'node:crypto';
import net from 'node:net';
import { Redis } from 'ioredis';

export const TEST_REDIS_URL = process.env.REELAY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** True when Redis answers; false (with a warning) outside CI; throws in CI. */
export async function redisAvailable(): Promise<boolean> {
  const probe = new Redis(TEST_REDIS_URL, { lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  let connectError: Error | undefined; // the real cause; connect() itself only says "Connection is closed"
  probe.on('error', (e: Error) => (connectError ??= e));
  try {
    await probe.connect();
    await probe.ping();
    return true;
  } catch (e) {
    const why = `Redis at ${TEST_REDIS_URL} is unreachable (${(connectError ?? (e as Error)).message})`;
    if (process.env.CI) throw new Error(`${why}; the Redis tests must run in CI. Start Redis or set REELAY_TEST_REDIS_URL.`);
    console.warn(`Skipping Redis tests: ${why}. Start Redis or set REELAY_TEST_REDIS_URL to run them.`);
    return false;
  } finally {
    probe.disconnect();
  }
}

export function testPrefix(): string {
  return `reelay-test:${crypto.randomBytes(6).toString('hex')}:`;
}

/** A client without a prefix, for inspecting what the code under test wrote. */
export function adminRedis(): Redis {
  return new Redis(TEST_REDIS_URL, { lazyConnect: true });
}

/** Deletes every key under `prefix` (hex-random, so it holds no glob characters). */
export async function deleteKeys(admin: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length > 0) await admin.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

/** A URL where nothing listens: a port that was free a moment ago. */
export async function closedPortUrl(): Promise<string> {
  const port = await new Promise<number>((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const p = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(p));
    });
  });
  return `redis://127.0.0.1:${port}`;
}

/**
 * A TCP proxy in front of the test Redis that can be cut and restored, to simulate an outage without
 * touching the Redis other tests share.
 */
export async function outageProxy(): Promise<{ url: string; cut(): Promise<void>; restore(): Promise<void>; close(): Promise<void> }> {
  const target = new URL(TEST_REDIS_URL);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 6379), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => (sockets.delete(s), client.destroy(), upstream.destroy()));
    }
    client.pipe(upstream).pipe(client);
  });
  const listen = (port: number) => new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => (server.off('error', reject), resolve()));
  });
  await listen(0);
  const port = (server.address() as net.AddressInfo).port;
  const cut = async () => {
    for (const s of sockets) s.destroy();
    if (server.listening) await new Promise<void>((r) => server.close(() => r()));
  };
  return {
    url: `redis://${target.username || target.password ? `${target.username}:${target.password}@` : ''}127.0.0.1:${port}${target.pathname}`,
    cut,
    restore: () => listen(port),
    close: cut,
  };
}
