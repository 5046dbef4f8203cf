/**
 * Builds the provider behind each configured channel. With no channels configured, every model is routed
 * to the built-in simulator (the embedded default of the contract).
 */
import type { ChannelConfig } from '../config/schema.ts';
import { ConfigError } from '../config/configError.ts';
import type { VideoProvider } from './types.ts';
import { SimulatorProvider } from './simulator/simulatorProvider.ts';
import { createApimartProvider } from './apimart/index.ts';
import { createDashscopeProvider } from './dashscope/index.ts';
import { createViduProvider } from './vidu/index.ts';
import { createGeminiProvider } from './gemini/index.ts';
import { createVertexProvider } from './vertex/index.ts';
import { createFalProvider } from './fal/index.ts';
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

const FACTORIES: Record<ChannelConfig['provider'], Factory> = {
  simulator: (_c, d) => new SimulatorProvider({ workDir: d.simWorkDir, latencyMs: d.simLatencyMs, pool: d.renderPool }),
  apimart: (c) => createApimartProvider(c),
  dashscope: (c) => createDashscopeProvider(c),
  vidu: (c) => createViduProvider(c),
  gemini: (c) => createGeminiProvider(c),
  vertex: (c) => createVertexProvider(c),
  fal: (c) => createFalProvider(c),
};

export function createProvider(channel: ChannelConfig, deps: ProviderDeps, index: number): VideoProvider {
  try {
    return FACTORIES[channel.provider](channel, deps);
  } catch (e) {
    if (e instanceof ConfigError) throw new ConfigError(`channels[${index}]: ${e.message}`);
    throw e;
  }
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
