/**
 * Builds the provider behind each configured channel. With no channels configured, every model is routed
 * to the built-in simulator (the embedded default of the contract).
 */
import type { ChannelConfig } from '../config/schema.ts';
import { ConfigError } from '../config/configError.ts';
import type { VideoProvider } from './types.ts';
import { SimulatorProvider } from './simulator/simulatorProvider.ts';
import { ApimartProvider } from './apimart/apimartProvider.ts';
import type { RenderPool } from './simulator/renderPool.ts';

export interface ProviderDeps {
  /** Simulator: where renders go, how long a job takes, the shared render pool. */
  simWorkDir: string;
  simLatencyMs: number;
  renderPool: RenderPool;
  /** Base URL at which upstream webhooks reach this gateway (POST /hooks/<channel>). */
  webhookBaseUrl: string;
}

type Factory = (channel: ChannelConfig, deps: ProviderDeps) => VideoProvider;

/** Per-call timeout for an upstream, from the channel's options (ms). */
function timeoutOf(c: ChannelConfig): number | undefined {
  const t = c.options.timeout_ms;
  return typeof t === 'number' && t > 0 ? t : undefined;
}

const FACTORIES: Partial<Record<ChannelConfig['provider'], Factory>> = {
  simulator: (_c, d) => new SimulatorProvider({ workDir: d.simWorkDir, latencyMs: d.simLatencyMs, pool: d.renderPool }),
  apimart: (c) =>
    new ApimartProvider({
      baseUrl: c.base_url ?? 'https://api.apimart.ai',
      apiKey: c.api_key!,
      timeoutMs: timeoutOf(c),
      inlineStoredImages: c.options.inline_stored_images !== false,
    }),
};

export function createProvider(channel: ChannelConfig, deps: ProviderDeps, index: number): VideoProvider {
  const factory = FACTORIES[channel.provider];
  if (!factory) {
    throw new ConfigError(`channels[${index}] (${channel.name}).provider: ${channel.provider} is not available in this build`);
  }
  return factory(channel, deps);
}

/** The channel every model uses when none is configured. */
export const DEFAULT_SIMULATOR_CHANNEL: ChannelConfig = {
  name: 'simulator',
  provider: 'simulator',
  models: ['*'],
  model_map: {},
  weight: 1,
  priority: 0,
  max_concurrency: null,
  rpm: null,
  poll_rps: 1000,
  poll_min_ms: 500,
  poll_max_ms: 2000,
  webhooks: false,
  options: {},
};
