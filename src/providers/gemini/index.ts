/** Builds the `gemini` provider from a channel: base_url (default Google's), api_key, options.timeout_ms. */
import type { ChannelConfig } from '../../config/schema.ts';
import { ConfigError } from '../../config/configError.ts';
import { GeminiProvider, GEMINI_BASE_URL } from './geminiProvider.ts';

export { GeminiProvider } from './geminiProvider.ts';

export function createGeminiProvider(channel: ChannelConfig): GeminiProvider {
  if (!channel.api_key) throw new ConfigError(`channel ${channel.name}: provider gemini needs api_key (a Gemini API key from AI Studio)`);
  const timeout = channel.options.timeout_ms;
  return new GeminiProvider({
    baseUrl: channel.base_url ?? GEMINI_BASE_URL,
    apiKey: channel.api_key,
    timeoutMs: typeof timeout === 'number' && timeout > 0 ? timeout : undefined,
  });
}
