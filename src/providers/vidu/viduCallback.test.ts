import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { contractHarness, startRequest, type ContractHarness } from '../../../test/contracts/provider.contract.ts';
import { callbackBody } from './viduApi.ts';
import { callbackSigningString } from './viduCallbackSignature.ts';
import { ViduFake } from './fake.ts';
import { ViduProvider } from './viduProvider.ts';

const KEY = 'vidu-callback-key';

interface Delivery {
  url: string;
  headers: http.IncomingHttpHeaders;
  body: ReturnType<typeof callbackBody.parse>;
}

/** A loopback stand-in for the gateway's /hooks route; refuses the first `refuseFinal` final deliveries. */
class Receiver {
  readonly deliveries: Delivery[] = [];
  refuseFinal = 0;
  url = '';
  private readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = callbackBody.parse(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      this.deliveries.push({ url: req.url ?? '', headers: req.headers, body });
      const final = body.state === 'success' || body.state === 'failed';
      if (final && this.refuseFinal > 0) {
        this.refuseFinal--;
        res.writeHead(500).end();
      } else res.writeHead(200, { 'content-type': 'application/json' }).end('{"received":true}');
    });
  });

  async start(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async until(predicate: (d: Delivery[]) => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.deliveries)) {
      if (Date.now() > deadline) throw new Error(`callbacks not seen; got ${this.deliveries.map((d) => d.body.state).join(', ')}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}

describe('vidu callbacks', () => {
  let h: ContractHarness;
  let fake: ViduFake;
  let receiver: Receiver;
  let vidu: ViduProvider;
  beforeAll(async () => (h = await contractHarness()));
  afterAll(async () => h.close());
  beforeEach(async () => {
    fake = new ViduFake({ apiKey: KEY });
    await fake.start();
    receiver = new Receiver();
    await receiver.start();
    vidu = new ViduProvider({ baseUrl: fake.url, apiKey: KEY });
  });
  afterEach(async () => {
    await fake.close();
    await receiver.close();
  });

  async function startWithHook(taskId: string) {
    const req = startRequest({ model: 'viduq3', prompt: 'x', image_urls: ['https://example.com/a.png'] }, h, fake.url, taskId);
    req.webhookUrl = `${receiver.url}/hooks/vidu-main/${taskId}?sig=s1`;
    return vidu.start(req, h.ctx);
  }

  it('Vidu POSTs the creations body, signed, on processing and on success; the status call then agrees', async () => {
    fake.jobs.latencyMs = 200;
    const op = await startWithHook('task_cb1');
    await receiver.until((d) => d.some((x) => x.body.state === 'success'));
    expect(receiver.deliveries.map((d) => d.body.state)).toEqual(['processing', 'success']);
    for (const d of receiver.deliveries) {
      expect(d.url).toBe('/hooks/vidu-main/task_cb1?sig=s1');
      expect(d.body).toMatchObject({ id: op.id, payload: 'task_cb1' });
      const signing = callbackSigningString('POST', `${receiver.url}${d.url}`, String(d.headers.date), String(d.headers['x-request-nonce']));
      expect(d.headers['x-hmac-signature']).toBe(crypto.createHmac('sha256', KEY).update(signing).digest('base64'));
      expect([d.headers['x-hmac-algorithm'], d.headers['x-hmac-access-key'], d.headers['x-hmac-signed-headers']]).toEqual(['hmac-sha256', 'vidu', 'Date;x-request-nonce']);
    }
    expect(receiver.deliveries[1].body.creations?.[0].url).toMatch(/\/media\/vidu_.*-0\.mp4$/);
    expect((await vidu.status(op, h.ctx)).state).toBe('succeeded');
  });

  it('a cancelled task calls back as failed with UserCancelled', async () => {
    fake.jobs.latencyMs = 5000;
    const op = await startWithHook('task_cb2');
    await vidu.cancel(op, h.ctx);
    await receiver.until((d) => d.length > 0);
    expect(receiver.deliveries.map((d) => [d.body.state, d.body.err_code])).toEqual([['failed', 'UserCancelled']]);
  });

  it('a refused final callback is delivered again', async () => {
    fake.jobs.latencyMs = 100;
    receiver.refuseFinal = 2;
    await startWithHook('task_cb3');
    await receiver.until((d) => d.filter((x) => x.body.state === 'success').length === 3);
    expect(receiver.deliveries.map((d) => d.body.state)).toEqual(['processing', 'success', 'success', 'success']);
  });

  it('no callback_url, no callbacks', async () => {
    fake.jobs.latencyMs = 50;
    const op = await vidu.start(startRequest({ model: 'viduq3', prompt: 'x', image_urls: ['https://example.com/a.png'] }, h, fake.url), h.ctx);
    await new Promise((r) => setTimeout(r, 150));
    expect((await vidu.status(op, h.ctx)).state).toBe('succeeded');
    expect(receiver.deliveries).toEqual([]);
  });
});

describe('vidu callback signature', () => {
  it('builds the signing string of the worked example on platform.vidu.com/docs/callback-signature', () => {
    const s = callbackSigningString('post', 'http://127.0.0.1:8080/vidu/callback?name=james&age=36', 'Tue, 06 May 2025 12:09:42 GMT', '123e4567-e89b-12d3-a456-426614174000');
    expect(s).toBe(
      'POST\n/vidu/callback\nname=james&age=36\nvidu\nTue, 06 May 2025 12:09:42 GMT\n' +
        'Date:Tue, 06 May 2025 12:09:42 GMT\nx-request-nonce:123e4567-e89b-12d3-a456-426614174000\n',
    );
  });
});
