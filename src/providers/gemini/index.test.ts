/** createGeminiProvider: what a channel must say. */
import { describe, expect, it } from 'vitest';
import { channelSchema } from '../../config/schema.ts';
import { ConfigError } from '../../config/configError.ts';
import { createGeminiProvider } from './index.ts';

describe('createGeminiProvider', () => {
  it('needs api_key', () => {
    expect(() => createGeminiProvider(channelSchema.parse({ name: 'g', provider: 'gemini' }))).toThrow(ConfigError);
    expect(createGeminiProvider(channelSchema.parse({ name: 'g', provider: 'gemini', api_key: 'k' })).kind).toBe('gemini');
  });
});
