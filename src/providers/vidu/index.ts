/**
 * The `vidu` channel kind: builds a ViduProvider from a channel's configuration (base_url defaults to the
 * international API; options.timeout_ms sets the per-call timeout).
 */
import type { ChannelConfig } from '../../config/schema.ts';
import { ConfigError } from '../../config/configError.ts';
import { ViduProvider, VIDU_DEFAULT_BASE_URL } from './viduProvider.ts';

export { ViduProvider, VIDU_DEFAULT_BASE_URL, type ViduOptions } from './viduProvider.ts';

export function createViduProvider(channel: ChannelConfig): ViduProvider {
  // A missing key would only show as 401s on the first task; say so at start-up instead.
  if (!channel.api_key) throw new ConfigError(`channel ${channel.name}: provider vidu needs api_key (the Vidu API key, sent as "Token <key>")`);
  const timeout = channel.options.timeout_ms;
  return new ViduProvider({
    baseUrl: channel.base_url ?? VIDU_DEFAULT_BASE_URL,
    apiKey: channel.api_key,
    timeoutMs: typeof timeout === 'number' && timeout > 0 ? timeout : undefined,
  });
}
