/**
 * Helpers for adapters whose upstream wants image bytes (base64) rather than URLs, or cannot reach the
 * gateway's own URLs: read a stored input from storage, or fetch a client URL through the SSRF guard.
 */
import { ProviderError, type MediaInput, type ProviderContext } from './types.ts';

const MAX_INLINE_BYTES = 50 * 1024 * 1024;

export async function inputBytes(input: MediaInput, ctx: ProviderContext): Promise<{ bytes: Buffer; contentType: string }> {
  if (input.storageKey) {
    const obj = await ctx.storage.get(input.storageKey);
    if (!obj) throw new ProviderError(`stored input ${input.storageKey} is missing`, { retryable: false });
    return { bytes: await collect(obj.body, MAX_INLINE_BYTES), contentType: obj.contentType };
  }
  const res = await ctx.fetch(input.url, { headersTimeoutMs: 20_000, bodyTimeoutMs: 30_000 });
  if (res.status !== 200) {
    res.body.resume();
    throw new ProviderError(`input ${input.field} could not be fetched (HTTP ${res.status})`, { retryable: res.status >= 500 || res.status === 429 });
  }
  return { bytes: await collect(res.body, MAX_INLINE_BYTES), contentType: (res.headers['content-type'] ?? 'image/png').split(';')[0] };
}

export async function inputDataUri(input: MediaInput, ctx: ProviderContext): Promise<string> {
  const { bytes, contentType } = await inputBytes(input, ctx);
  return `data:${contentType};base64,${bytes.toString('base64')}`;
}

async function collect(stream: NodeJS.ReadableStream, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of stream) {
    n += (c as Buffer).length;
    if (n > max) throw new ProviderError(`input is larger than ${max} bytes`, { retryable: false });
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The request's params with each input's value replaced by `value(input)` (e.g. a data URI). */
export async function replaceInputs(
  params: Record<string, unknown>,
  inputs: MediaInput[],
  value: (input: MediaInput) => Promise<string | undefined>,
): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = { ...params };
  for (const i of inputs) {
    const v = await value(i);
    if (v === undefined) continue;
    if (i.index === null) out[i.field] = v;
    else {
      const list = [...((out[i.field] as string[]) ?? [])];
      list[i.index] = v;
      out[i.field] = list;
    }
  }
  return out;
}
