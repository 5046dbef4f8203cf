/** createVertexProvider: what a channel must say, and the endpoint it defaults to. */
import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { channelSchema } from '../../config/schema.ts';
import { createVertexProvider } from './index.ts';
import { vertexBaseUrl } from './vertexProvider.ts';

const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
// Never used to fetch a token here; the port is unroutable on purpose.
const SERVICE_ACCOUNT = { type: 'service_account', client_email: 'veo@p.iam.gserviceaccount.com', private_key: privateKey, token_uri: 'http://127.0.0.1:9/token' };

describe('createVertexProvider', () => {
  const channel = (extra: Record<string, unknown>) => channelSchema.parse({ name: 'v', provider: 'vertex', credentials: SERVICE_ACCOUNT, options: { project: 'p' }, ...extra });

  it('builds from credentials and options.project', () => {
    expect(createVertexProvider(channel({})).kind).toBe('vertex');
  });

  it('names the channel when a setting is missing or wrong', () => {
    expect(() => createVertexProvider(channel({ options: {} }))).toThrow(/channel v: provider vertex needs options\.project/);
    expect(() => createVertexProvider(channel({ credentials: undefined }))).toThrow(/channel v: provider vertex needs credentials/);
    expect(() => createVertexProvider(channel({ credentials: { client_email: 'x' } }))).toThrow(/channel v: credentials: not a service-account key \(private_key/);
    expect(() => createVertexProvider(channel({ options: { project: 'p', storage_uri: 'https://bucket' } }))).toThrow(/storage_uri must be a gs:\/\/ URI/);
  });

  it('defaults to the regional endpoint, and the global one for location global', () => {
    expect(vertexBaseUrl('us-central1')).toBe('https://us-central1-aiplatform.googleapis.com');
    expect(vertexBaseUrl('global')).toBe('https://aiplatform.googleapis.com');
  });
});
