/**
 * The `apimart` channel factory. Channel settings: `api_key` (required), `base_url` (default
 * https://api.apimart.ai; another reelay works too), `options.timeout_ms`, `options.inline_stored_images`
 * (default true: send images the gateway holds as data URIs).
 */
import type { ChannelConfig } from '../../config/schema.ts';
import { ConfigError } from '../../config/configError.ts';
import { ApimartProvider } from './apimartProvider.ts';

export { ApimartProvider, type ApimartOptions } from './apimartProvider.ts';

export function createApimartProvider(channel: ChannelConfig): ApimartProvider {
  if (!channel.api_key) throw new ConfigError(`channel ${channel.name}: an apimart channel needs api_key`);
  const timeoutMs = channel.options.timeout_ms;
  if (timeoutMs !== undefined && !(typeof timeoutMs === 'number' && timeoutMs > 0)) {
    throw new ConfigError(`channel ${channel.name}: options.timeout_ms must be a positive number of milliseconds`);
  }
  return new ApimartProvider({
    baseUrl: channel.base_url ?? 'https://api.apimart.ai',
    apiKey: channel.api_key,
    timeoutMs: timeoutMs as number | undefined,
    inlineStoredImages: channel.options.inline_stored_images !== false,
  });
}
