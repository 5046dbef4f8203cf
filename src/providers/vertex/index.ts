/**
 * Builds the `vertex` provider from a channel: `credentials` (service-account JSON or its path),
 * options.project (required), options.location (default us-central1), base_url, options.storage_base_url,
 * options.storage_uri (gs:// prefix for results; inline bytes without it), options.timeout_ms.
 */
import type { ChannelConfig } from '../../config/schema.ts';
import { ConfigError } from '../../config/configError.ts';
import { VertexProvider } from './vertexProvider.ts';
import { loadServiceAccount } from './vertexAuth.ts';

export { VertexProvider } from './vertexProvider.ts';

function stringOption(channel: ChannelConfig, key: string): string | undefined {
  const v = channel.options[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v === '') throw new ConfigError(`channel ${channel.name}: options.${key} must be a non-empty string`);
  return v;
}

export function createVertexProvider(channel: ChannelConfig): VertexProvider {
  if (!channel.credentials) throw new ConfigError(`channel ${channel.name}: provider vertex needs credentials (a service-account key, or the path of its JSON file)`);
  const project = stringOption(channel, 'project');
  if (!project) throw new ConfigError(`channel ${channel.name}: provider vertex needs options.project (the Google Cloud project id)`);
  const storageUri = stringOption(channel, 'storage_uri');
  if (storageUri && !storageUri.startsWith('gs://')) throw new ConfigError(`channel ${channel.name}: options.storage_uri must be a gs:// URI`);
  const timeout = channel.options.timeout_ms;
  return new VertexProvider({
    project,
    location: stringOption(channel, 'location'),
    // Read here so a bad key or path names the channel in the start-up error.
    credentials: loadServiceAccount(channel.credentials, `channel ${channel.name}: credentials`),
    baseUrl: channel.base_url,
    storageBaseUrl: stringOption(channel, 'storage_base_url'),
    storageUri,
    timeoutMs: typeof timeout === 'number' && timeout > 0 ? timeout : undefined,
  });
}
