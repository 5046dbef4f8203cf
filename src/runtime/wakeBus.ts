/**
 * Wake-ups for workers: "there is new due work" (no id) or "check this task now" (an id, e.g. after an
 * upstream webhook). Wake-ups only make workers faster; workers also poll the store, so a lost wake-up
 * delays work and never loses it. In one process the LocalWakeBus calls the engine directly; with several
 * processes the RedisWakeBus carries wake-ups between them.
 */
import type { Logger } from './logger.ts';

export type WakeHandler = (taskId?: string) => void;

export interface WakeBus {
  /** Without an id: look for due work now. With one: check that task now. Never throws. */
  publish(taskId?: string): void;
  subscribe(handler: WakeHandler): void;
  /** Stops delivery to this bus' handlers and releases its resources; publish does nothing afterwards. */
  close(): Promise<void>;
}

/** In-process delivery, synchronous: handlers have run when publish returns. */
export class LocalWakeBus implements WakeBus {
  private readonly handlers: WakeHandler[] = [];
  private closed = false;

  constructor(private readonly logger?: Pick<Logger, 'error'>) {}

  publish(taskId?: string): void {
    if (this.closed) return;
    deliver(this.handlers, taskId, this.logger);
  }

  subscribe(handler: WakeHandler): void {
    if (!this.closed) this.handlers.push(handler);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.handlers.length = 0;
  }
}

/** Calls every handler; one that throws is logged and does not keep the others (or the publisher) from running. */
export function deliver(handlers: readonly WakeHandler[], taskId: string | undefined, logger?: Pick<Logger, 'error'>): void {
  for (const h of handlers) {
    try {
      h(taskId);
    } catch (err) {
      logger?.error({ err, taskId }, 'wake handler failed');
    }
  }
}
