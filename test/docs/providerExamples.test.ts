/**
 * Following docs/providers.md as a new operator would: each channel example, exactly as printed (only the
 * base URL pointed at that provider's fake, and the secrets it names supplied), boots a gateway through the
 * normal config loader and completes a task — and the upstream saw the protocol the docs describe.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway } from '../helpers/gateway.ts';
import { ApimartFake } from '../../src/providers/apimart/fake.ts';
import { DashscopeFake } from '../../src/providers/dashscope/fake.ts';
import { ViduFake } from '../../src/providers/vidu/fake.ts';
import { GeminiFake } from '../../src/providers/gemini/fake.ts';
import { VertexFake } from '../../src/providers/vertex/fake.ts';
import { FalFake, FAKE_FAL_KEY } from '../../src/providers/fal/fake.ts';
import type { FakeServer } from '../../src/providers/fakes/fakeServer.ts';

const doc = fs.readFileSync(new URL('../../docs/providers.md', import.meta.url), 'utf8');
const examples = [...doc.matchAll(/```yaml\n(  - name:[\s\S]*?)```/g)].map((m) => (YAML.parse(`channels:\n${m[1]}`) as { channels: Record<string, any>[] }).channels[0]);

const { publicKey, privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
const CLIENT_EMAIL = 'reelay@my-project.iam.gserviceaccount.com';

interface Upstream {
  start(): Promise<string>;
  close(): Promise<void>;
  server: FakeServer;
}

/** The fake for each provider, the secrets its example names, and a request it serves. */
const SETUPS: Record<string, { fake: () => Upstream; env: Record<string, string>; body: Record<string, unknown> }> = {
  apimart: { fake: () => new ApimartFake({ apiKey: 'ak-test' }), env: { APIMART_API_KEY: 'ak-test' }, body: { model: 'Omni-Flash-Ext', prompt: 'a sunset', duration: 4 } },
  dashscope: { fake: () => new DashscopeFake({ apiKey: 'ds-test' }), env: { DASHSCOPE_API_KEY: 'ds-test' }, body: { model: 'wan2.5-preview', prompt: 'a coastal road' } },
  vidu: { fake: () => new ViduFake({ apiKey: 'vd-test' }), env: { VIDU_API_KEY: 'vd-test' }, body: { model: 'viduq3', prompt: 'a hug', image_urls: ['https://example.com/a.png'] } },
  gemini: { fake: () => new GeminiFake({ apiKey: 'gm-test' }), env: { GEMINI_API_KEY: 'gm-test' }, body: { model: 'veo3.1-fast-official', prompt: 'a dog on a beach' } },
  vertex: {
    fake: () => new VertexFake({ project: 'my-project', location: 'us-central1', clientEmail: CLIENT_EMAIL, publicKey }),
    env: {},
    body: { model: 'veo3.1-quality-official', prompt: 'a cat', generate_audio: true },
  },
  fal: { fake: () => new FalFake({ apiKey: FAKE_FAL_KEY }), env: { FAL_KEY: FAKE_FAL_KEY }, body: { model: 'happyhorse-1.0', prompt: 'a horse', resolution: '720P' } },
};

describe('the channel examples in docs/providers.md', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelay-doc-examples-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('cover every real provider', () => {
    expect(new Set(examples.map((e) => e.provider))).toEqual(new Set(Object.keys(SETUPS)));
  });

  for (const example of examples) {
    describe(`${example.provider} (${example.name})`, () => {
      const setup = SETUPS[example.provider];
      let fake: Upstream;
      beforeAll(async () => {
        fake = setup.fake();
        await fake.start();
      });
      afterAll(async () => fake?.close());

      it('boots from the example as printed and completes a task through the documented protocol', async () => {
        const channel: Record<string, unknown> = { ...example, base_url: (fake as unknown as { url: string }).url, poll_min_ms: 50, poll_max_ms: 200 };
        if (example.provider === 'vertex') {
          // The example names a service-account file: write one whose token endpoint is the fake's.
          const file = path.join(dir, 'service-account.json');
          fs.writeFileSync(file, JSON.stringify({ type: 'service_account', project_id: 'my-project', private_key_id: 'k1', private_key: privateKey, client_email: CLIENT_EMAIL, token_uri: `${channel.base_url}/token` }));
          channel.credentials = file;
        }
        // The file keeps ${VAR} references; the loader resolves them from the environment.
        const t = await startTestGateway({ ...setup.env }, { channels: [channel], allow_private_hosts: ['127.0.0.1'] });
        try {
          const k = await t.newKey(50);
          const r = await t.call(k.key, 'POST', '/v1/videos/generations', setup.body);
          expect(r.status, JSON.stringify(r.body)).toBe(200);
          const task = await t.waitFor(k.key, r.body.data[0].task_id);
          expect(task.status, JSON.stringify(task)).toBe('completed');
          expect(task.result.videos[0].url[0]).toContain(`${t.url}/files/results/`);
          expect(fake.server.requestsOf('submit').length).toBe(1);
        } finally {
          await t.close();
        }
      });
    });
  }
});
