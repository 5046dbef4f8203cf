/**
 * Picks the upstream channel for a task: among the channels that serve the model, are healthy and have
 * capacity, the lowest `priority` number wins; ties are broken at random by `weight`. A channel that keeps
 * failing is cooled down (exponentially longer each time) and comes back by itself when the cooldown ends.
 */
import type { VideoProvider } from '../providers/types.ts';
import { TokenBucket } from './tokenBucket.ts';

export interface ChannelSettings {
  name: string;
  provider: string;
  models: string[];
  /** Model id → upstream model id, where a channel serves a model under another name. */
  modelMap: Record<string, string>;
  weight: number;
  priority: number;
  /** Most tasks this channel may have upstream at once (null = unlimited). */
  maxConcurrency: number | null;
  /** Submits per minute allowed on this channel (null = unlimited). */
  rpm: number | null;
  /** Status checks per second allowed on this channel (the poll budget). */
  pollRps: number;
  /** First poll after submit and the slowest poll interval, ms. */
  pollMinMs: number;
  pollMaxMs: number;
  /** Give the upstream a callback URL where it supports one. */
  webhooks: boolean;
}

export interface ChannelHealth {
  consecutiveFailures: number;
  cooldownUntil: number;
  cooldowns: number;
  lastError: string | null;
}

/** Failures in a row that put a channel in cooldown, and the first cooldown's length. */
const FAILURES_BEFORE_COOLDOWN = 3;
const FIRST_COOLDOWN_MS = 5_000;
const MAX_COOLDOWN_MS = 5 * 60_000;

export class Channel {
  readonly health: ChannelHealth = { consecutiveFailures: 0, cooldownUntil: 0, cooldowns: 0, lastError: null };
  /** Tasks this process has upstream on the channel. */
  inFlight = 0;
  readonly submitBudget: TokenBucket | null;
  readonly pollBudget: TokenBucket;
  /** Set while an upstream 429 asks us to slow down: no calls before this time. */
  throttledUntil = 0;

  constructor(
    readonly settings: ChannelSettings,
    readonly provider: VideoProvider,
  ) {
    this.submitBudget = settings.rpm ? new TokenBucket(settings.rpm / 60, Math.max(1, Math.ceil(settings.rpm / 60))) : null;
    this.pollBudget = new TokenBucket(settings.pollRps, Math.max(1, Math.ceil(settings.pollRps)));
  }

  get name(): string {
    return this.settings.name;
  }

  upstreamModel(model: string): string | undefined {
    return this.settings.modelMap[model];
  }

  serves(model: string): boolean {
    return (this.settings.models.includes('*') || this.settings.models.includes(model)) && this.provider.supports(model);
  }

  isHealthy(now: number): boolean {
    return this.health.cooldownUntil <= now;
  }

  hasCapacity(): boolean {
    return this.settings.maxConcurrency === null || this.inFlight < this.settings.maxConcurrency;
  }

  recordSuccess(): void {
    this.health.consecutiveFailures = 0;
    this.health.cooldowns = 0;
  }

  recordFailure(message: string, now: number): void {
    this.health.consecutiveFailures++;
    this.health.lastError = message;
    if (this.health.consecutiveFailures >= FAILURES_BEFORE_COOLDOWN) {
      const ms = Math.min(MAX_COOLDOWN_MS, FIRST_COOLDOWN_MS * 2 ** this.health.cooldowns);
      this.health.cooldownUntil = now + ms;
      this.health.cooldowns++;
      this.health.consecutiveFailures = 0;
    }
  }

  /** The upstream said 429: no calls on this channel until then; tasks are not failed for it. */
  throttle(untilMs: number): void {
    this.throttledUntil = Math.max(this.throttledUntil, untilMs);
  }
}

export type Pick =
  | { channel: Channel }
  /** Channels exist but none can take the task now (cooling down, throttled, full); try again at `retryAt`. */
  | { busy: true; retryAt: number }
  /** No channel serves the model (or all were tried and failed for this task). */
  | { none: true };

export class ChannelRouter {
  constructor(
    readonly channels: Channel[],
    private readonly random: () => number = Math.random,
  ) {}

  get(name: string): Channel | undefined {
    return this.channels.find((c) => c.name === name);
  }

  servesModel(model: string): boolean {
    return this.channels.some((c) => c.serves(model));
  }

  /** Chooses a channel for `model`, skipping those this task already failed on. */
  pick(model: string, exclude: readonly string[], now: number): Pick {
    const serving = this.channels.filter((c) => c.serves(model) && !exclude.includes(c.name));
    if (serving.length === 0) return { none: true };
    const ready = serving.filter(
      (c) => c.isHealthy(now) && c.throttledUntil <= now && c.hasCapacity() && (c.submitBudget?.peek(now) ?? 1) >= 1,
    );
    if (ready.length === 0) {
      const retryAt = Math.min(
        ...serving.map((c) => Math.max(c.health.cooldownUntil, c.throttledUntil, c.submitBudget?.nextTokenAt(now) ?? now, now + 250)),
      );
      return { busy: true, retryAt };
    }
    const best = Math.min(...ready.map((c) => c.settings.priority));
    const tier = ready.filter((c) => c.settings.priority === best);
    return { channel: this.weighted(tier) };
  }

  private weighted(tier: Channel[]): Channel {
    const total = tier.reduce((n, c) => n + c.settings.weight, 0);
    let r = this.random() * total;
    for (const c of tier) {
      r -= c.settings.weight;
      if (r < 0) return c;
    }
    return tier[tier.length - 1];
  }
}
