import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PayloadTooLargeError, Reelay } from './index.ts';
import { sniffImageType } from './resources/uploads.ts';
import { FakeReelay, errorAnswer } from './testing/fakeReelay.ts';

// A PNG signature and the start of an IHDR chunk: enough bytes for type detection.
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000100000001008020000', 'hex');

let server: FakeReelay | undefined;
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'reelay-upload-'));
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function start(wrapUploads: boolean): Promise<Reelay> {
  const started = await new FakeReelay({ wrapUploads }).start();
  server = started;
  return new Reelay({ baseUrl: started.url, apiKey: started.apiKey });
}

describe('uploads.image', () => {
  it('sends a file from a path as multipart field "file" with a type from its extension', async () => {
    const client = await start(false);
    const path = join(dir, 'cat.png');
    await writeFile(path, PNG);
    const up = await client.uploads.image(path);
    expect(server!.uploads[0]).toEqual({ filename: 'cat.png', contentType: 'image/png', bytes: PNG });
    expect(up).toMatchObject({ filename: 'cat.png', content_type: 'image/png', bytes: PNG.length });
    expect(up.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/files\/up_1-cat\.png$/);
  });

  it('accepts the {code, data} envelope too, and sniffs the type of bare bytes', async () => {
    const client = await start(true);
    const up = await client.uploads.image(PNG);
    expect(up).toMatchObject({ filename: 'image', content_type: 'image/png', bytes: PNG.length });
    expect(server!.uploads[0]!.bytes).toEqual(PNG);
  });

  it('keeps the name and type given for a Blob', async () => {
    const client = await start(false);
    await client.uploads.image(new Blob([PNG]), { filename: 'frame.webp', contentType: 'image/webp' });
    expect(server!.uploads[0]).toMatchObject({ filename: 'frame.webp', contentType: 'image/webp' });
  });

  it('maps 413 to PayloadTooLargeError', async () => {
    const client = await start(false);
    server!.script('POST', '/v1/uploads/images', errorAnswer(413, 'body_too_large', 'invalid_request_error', 'upload over 20 MB'));
    await expect(client.uploads.image(PNG)).rejects.toBeInstanceOf(PayloadTooLargeError);
  });
});

describe('sniffImageType', () => {
  it('tells the formats the models take apart', () => {
    expect(sniffImageType(PNG)).toBe('image/png');
    expect(sniffImageType(Buffer.from([0xff, 0xd8, 0xff, 0xe0]))).toBe('image/jpeg');
    expect(sniffImageType(Buffer.from('RIFF\0\0\0\0WEBPVP8 '))).toBe('image/webp');
    expect(sniffImageType(Buffer.from('GIF89a'))).toBe('image/gif');
    expect(sniffImageType(Buffer.from('hello'))).toBeUndefined();
  });
});
