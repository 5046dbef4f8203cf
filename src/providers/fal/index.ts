/**
 * Builds the fal provider behind a `provider: fal` channel: base_url (default https://queue.fal.run),
 * api_key (required), options.timeout_ms. model_map entries replace an endpoint's base (see falMapping.ts).
 */
import type { ChannelConfig } from '../../config/schema.ts';
import { ConfigError } from '../../config/configError.ts';
import { FalProvider, FAL_QUEUE_URL } from './falProvider.ts';

export { FalProvider, FAL_QUEUE_URL, type FalOperation, type FalOptions } from './falProvider.ts';
export { FAL_ENDPOINTS, FAL_MODELS, falEndpointFor, type FalEndpoint } from './falMapping.ts';

export function createFalProvider(channel: ChannelConfig): FalProvider {
  if (!channel.api_key) throw new ConfigError(`channel ${channel.name} (provider fal) needs api_key: fal's "key_id:key_secret"`);
  const timeout = channel.options.timeout_ms;
  return new FalProvider({
    baseUrl: channel.base_url ?? FAL_QUEUE_URL,
    apiKey: channel.api_key,
    timeoutMs: typeof timeout === 'number' && timeout > 0 ? timeout : undefined,
  });
}
