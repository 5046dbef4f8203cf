/**
 * Wake-ups between processes over Redis pub/sub, channel `<prefix>wake`; a message is a task id, or empty
 * for "look for due work". Every process that subscribed gets every message, its own included.
 *
 * Coalescing: publishes within `coalesceMs` (2 ms) go out as one batch, and messages a subscriber reads
 * together are handed over together; in each, repeated general wakes become one, repeated ids one each. Ids
 * are kept even next to a general wake, because a general wake only finds *due* tasks and a webhook's task
 * is usually not due yet. Only a burst of more than `maxIdsPerBurst` distinct ids in one window is sent as
 * a single general wake (so each id is delivered at least once, or covered by a general wake; those tasks
 * are then checked at their next scheduled time).
 *
 * Best effort by design: while Redis is down, publishes are dropped silently and subscribers hear nothing;
 * workers still find everything by polling the store, later. ioredis reconnects and resubscribes.
 */
import type { Redis } from 'ioredis';
import type { Logger } from './logger.ts';
import { closeRedis, duplicateRedis, redisPrefix, redisUsable } from './redis.ts';
import { deliver, type WakeBus, type WakeHandler } from './wakeBus.ts';

export interface RedisWakeBusOptions {
  logger?: Pick<Logger, 'error'>;
  /** Publishes within this many ms go out together. */
  coalesceMs?: number;
  /** More distinct ids than this in one window are sent as one general wake. */
  maxIdsPerBurst?: number;
}

/** Wake-ups gathered during one window: whether any was general, and the distinct ids. */
class Burst {
  general = false;
  ids = new Set<string>();

  add(taskId: string | undefined): void {
    if (taskId) this.ids.add(taskId);
    else this.general = true;
  }

  take(): { general: boolean; ids: Set<string> } {
    const taken = { general: this.general, ids: this.ids };
    this.general = false;
    this.ids = new Set();
    return taken;
  }
}

export class RedisWakeBus implements WakeBus {
  readonly channel: string;
  private readonly coalesceMs: number;
  private readonly maxIds: number;
  private readonly outgoing = new Burst();
  private readonly incoming = new Burst();
  private readonly handlers: WakeHandler[] = [];
  private flushTimer: NodeJS.Timeout | null = null;
  private deliveryScheduled = false;
  private sub: Redis | null = null;
  private subscribed: Promise<void> = Promise.resolve();
  private closed = false;

  /**
   * `pub` (from createRedis) becomes the publisher connection and this bus owns it. The subscriber
   * connection is opened by the first subscribe(), so a publish-only process (role api) holds one.
   */
  constructor(
    private readonly pub: Redis,
    private readonly opts: RedisWakeBusOptions = {},
  ) {
    this.channel = `${redisPrefix(pub)}wake`;
    this.coalesceMs = opts.coalesceMs ?? 2;
    this.maxIds = opts.maxIdsPerBurst ?? 100;
  }

  publish(taskId?: string): void {
    if (this.closed) return;
    this.outgoing.add(taskId);
    this.flushTimer ??= setTimeout(() => this.flush(), this.coalesceMs);
  }

  subscribe(handler: WakeHandler): void {
    if (this.closed) return;
    this.handlers.push(handler);
    if (this.sub) return;
    const name = this.pub.options.connectionName;
    // Never give up on the one SUBSCRIBE: it waits in the offline queue until Redis is reachable.
    const sub = duplicateRedis(this.pub, { connectionName: name ? `${name}-sub` : undefined, maxRetriesPerRequest: null });
    sub.on('message', (channel: string, message: string) => {
      if (channel === this.channel) this.received(message || undefined);
    });
    this.sub = sub;
    this.subscribed = sub.subscribe(this.channel).then(() => undefined);
    this.subscribed.catch(() => undefined); // rejected only by close(); ready() reports it to whoever waits
  }

  /** Resolves when the publisher is connected and, if anything subscribed, the subscription is active. */
  async ready(): Promise<void> {
    await Promise.all([this.pub.ping(), this.subscribed]);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flush(); // wake-ups published just before closing still go out
    }
    this.closed = true;
    this.handlers.length = 0;
    await Promise.all([closeRedis(this.pub), this.sub ? closeRedis(this.sub) : undefined]);
  }

  private flush(): void {
    this.flushTimer = null;
    const { general, ids } = this.outgoing.take();
    if (!redisUsable(this.pub)) return; // dropped: workers poll
    const messages = ids.size > this.maxIds ? [''] : [...(general ? [''] : []), ...ids];
    const batch = this.pub.pipeline();
    for (const m of messages) batch.publish(this.channel, m);
    batch.exec().catch(() => undefined); // a connection lost mid-send loses wake-ups, not work
  }

  private received(taskId: string | undefined): void {
    if (this.closed) return;
    this.incoming.add(taskId);
    if (this.deliveryScheduled) return;
    this.deliveryScheduled = true;
    // Messages that arrived together (one socket read) are handed over together.
    setImmediate(() => {
      this.deliveryScheduled = false;
      if (this.closed) return;
      const { general, ids } = this.incoming.take();
      for (const id of ids) deliver(this.handlers, id, this.opts.logger);
      if (general) deliver(this.handlers, undefined, this.opts.logger);
    });
  }
}
