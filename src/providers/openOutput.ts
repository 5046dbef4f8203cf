/**
 * Opens an upstream result as a stream, for copying into the gateway's storage. URLs from an upstream reply
 * are fetched through the SSRF guard and only over https (http only for hosts the operator allows).
 */
import fs from 'node:fs';
import { Readable } from 'node:stream';
import { ProviderError, type OpenedOutput, type ProviderContext, type UpstreamOutput } from './types.ts';

export async function openUpstreamOutput(output: UpstreamOutput, ctx: ProviderContext): Promise<OpenedOutput> {
  switch (output.kind) {
    case 'url': {
      const res = await ctx.fetch(output.url, { headers: output.headers, requireHttps: true, signal: ctx.signal, bodyTimeoutMs: 120_000 });
      if (res.status !== 200) {
        res.body.resume();
        throw new ProviderError(`result download answered HTTP ${res.status}`, {
          retryable: res.status === 429 || res.status >= 500 || res.status === 408,
          status: res.status,
        });
      }
      const length = Number(res.headers['content-length']);
      return {
        body: res.body,
        contentType: output.contentType ?? res.headers['content-type'] ?? 'video/mp4',
        bytes: Number.isFinite(length) ? length : undefined,
      };
    }
    case 'base64': {
      const bytes = Buffer.from(output.data, 'base64');
      return { body: Readable.from([bytes]), contentType: output.contentType, bytes: bytes.length };
    }
    case 'file': {
      const stat = await fs.promises.stat(output.path);
      return { body: fs.createReadStream(output.path), contentType: output.contentType, bytes: stat.size };
    }
    case 'stored': {
      const obj = await ctx.storage.get(output.key);
      if (!obj) throw new ProviderError(`stored result ${output.key} is missing`, { retryable: false });
      return { body: obj.body, contentType: obj.contentType, bytes: obj.bytes };
    }
  }
}
