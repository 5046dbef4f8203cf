/**
 * The SSRF guard: private and loopback addresses refused unless allowed (by literal, by DNS answer, and at
 * every redirect hop), https required where asked, and credentials dropped when a redirect changes origin.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AddressGuard, BlockedUrlError, createSafeFetch } from '../../src/media/safeFetch.ts';

function server(handler: http.RequestListener): Promise<{ port: number; close(): Promise<void> }> {
  const s = http.createServer(handler);
  return new Promise((resolve) =>
    s.listen(0, '127.0.0.1', () =>
      resolve({
        port: (s.address() as AddressInfo).port,
        close: () => new Promise<void>((r) => (s.closeAllConnections(), s.close(() => r()))),
      }),
    ),
  );
}

describe('safe fetch', () => {
  const seen: Record<string, string | undefined>[] = [];
  let a: Awaited<ReturnType<typeof server>>;
  let b: Awaited<ReturnType<typeof server>>;
  beforeAll(async () => {
    b = await server((req, res) => {
      seen.push({ authorization: req.headers.authorization, key: req.headers['x-goog-api-key'] as string | undefined, path: req.url });
      res.end('from b');
    });
    a = await server((req, res) => {
      seen.push({ authorization: req.headers.authorization, key: req.headers['x-goog-api-key'] as string | undefined, path: req.url });
      if (req.url === '/to-b') return void res.writeHead(302, { location: `http://localhost:${b.port}/landed` }).end();
      if (req.url === '/to-self') return void res.writeHead(302, { location: '/landed' }).end();
      if (req.url === '/to-ip') return void res.writeHead(302, { location: `http://127.0.0.1:${b.port}/x` }).end();
      res.end('from a');
    });
  });
  afterAll(async () => {
    await a.close();
    await b.close();
  });

  it('refuses loopback, private, link-local and mapped addresses by default', async () => {
    const { fetch, close } = createSafeFetch(new AddressGuard({ allow: [] }));
    try {
      for (const url of [`http://127.0.0.1:${a.port}/`, `http://localhost:${a.port}/`, 'http://10.0.0.1/', 'http://169.254.169.254/latest/meta-data/', 'http://[::1]/', 'http://[::ffff:127.0.0.1]/', 'http://192.168.1.1/', 'http://100.64.0.1/']) {
        await expect(fetch(url, { headersTimeoutMs: 2000 }), url).rejects.toBeInstanceOf(BlockedUrlError);
      }
      await expect(fetch('file:///etc/passwd')).rejects.toBeInstanceOf(BlockedUrlError);
    } finally {
      await close();
    }
  });

  it('allows what the operator allows, by host name or by CIDR', async () => {
    for (const allow of [['localhost'], ['127.0.0.0/8']]) {
      const { fetch, close } = createSafeFetch(new AddressGuard({ allow }));
      try {
        const res = await fetch(`http://localhost:${a.port}/plain`);
        expect(await res.text()).toBe('from a');
      } finally {
        await close();
      }
    }
  });

  it('checks every redirect hop', async () => {
    const { fetch, close } = createSafeFetch(new AddressGuard({ allow: ['localhost'] }));
    try {
      await expect(fetch(`http://localhost:${a.port}/to-ip`)).rejects.toBeInstanceOf(BlockedUrlError);
    } finally {
      await close();
    }
  });

  it('requires https where asked, except for allowed hosts', async () => {
    const strict = new AddressGuard({ allow: [] });
    expect(() => strict.checkUrl('http://example.com/video.mp4', true)).toThrow(BlockedUrlError);
    expect(strict.checkUrl('https://example.com/video.mp4', true).host).toBe('example.com');
    expect(new AddressGuard({ allow: ['localhost'] }).checkUrl('http://localhost:9/v.mp4', true).host).toBe('localhost:9');
  });

  it('drops credentials when a redirect leaves the origin, keeps them on the same origin', async () => {
    const { fetch, close } = createSafeFetch(new AddressGuard({ allow: ['localhost'] }));
    try {
      seen.length = 0;
      await (await fetch(`http://localhost:${a.port}/to-b`, { headers: { authorization: 'Bearer secret', 'x-goog-api-key': 'k' } })).text();
      expect(seen[0]).toMatchObject({ authorization: 'Bearer secret', key: 'k' });
      expect(seen[1]).toMatchObject({ path: '/landed', authorization: undefined, key: undefined });
      seen.length = 0;
      await (await fetch(`http://localhost:${a.port}/to-self`, { headers: { authorization: 'Bearer secret' } })).text();
      expect(seen[1]).toMatchObject({ path: '/landed', authorization: 'Bearer secret' });
    } finally {
      await close();
    }
  });
});
