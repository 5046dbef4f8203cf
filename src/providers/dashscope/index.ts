/**
 * The `dashscope` channel factory. Channel settings: `api_key` (required), `base_url` (optional; defaults
 * to the region's endpoint), `options.region` (singapore | virginia | beijing; default singapore),
 * `options.timeout_ms` (per call).
 */
import type { ChannelConfig } from '../../config/schema.ts';
import { ConfigError } from '../../config/configError.ts';
import { DashscopeProvider } from './dashscopeProvider.ts';
import { DASHSCOPE_REGIONS, isDashscopeRegion } from './dashscopeRegions.ts';

export { DashscopeProvider, type DashscopeOptions } from './dashscopeProvider.ts';
export { DASHSCOPE_REGIONS, type DashscopeRegion } from './dashscopeRegions.ts';

export function createDashscopeProvider(channel: ChannelConfig): DashscopeProvider {
  if (!channel.api_key) throw new ConfigError(`channel ${channel.name}: a dashscope channel needs api_key (a DashScope API key of its region)`);
  const { region, timeout_ms: timeoutMs } = channel.options;
  if (region !== undefined && !isDashscopeRegion(region)) {
    throw new ConfigError(`channel ${channel.name}: options.region must be one of ${Object.keys(DASHSCOPE_REGIONS).join(', ')}; got ${JSON.stringify(region)}`);
  }
  if (timeoutMs !== undefined && !(typeof timeoutMs === 'number' && timeoutMs > 0)) {
    throw new ConfigError(`channel ${channel.name}: options.timeout_ms must be a positive number of milliseconds`);
  }
  return new DashscopeProvider({ apiKey: channel.api_key, baseUrl: channel.base_url, region, timeoutMs });
}
