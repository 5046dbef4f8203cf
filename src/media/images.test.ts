import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../errors.ts';
import { findModel } from '../models/registry.ts';
import type { ImageFormat, ImageRules } from '../models/spec.ts';
import {
  checkImage,
  contentTypeFor,
  decodeDataUri,
  extensionFor,
  formatBytes,
  probeImage,
  probeImageStream,
  PROBE_PREFIX_BYTES,
  type ImageContext,
  type ImageInfo,
} from './images.ts';

const KB = 1024;
const MB = 1024 * KB;
const ffmpeg = (createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as { path: string }).path;

// ------------------------------------------------------------------------------------------- test images

type Generated = ImageFormat | 'tiff';
const FILE_EXTENSION: Record<Generated, string> = { png: 'png', jpeg: 'jpg', webp: 'webp', bmp: 'bmp', gif: 'gif', tiff: 'tiff' };
const ALL_FORMATS: ImageFormat[] = ['png', 'jpeg', 'webp', 'bmp', 'gif'];

let dir: string;
const generated = new Map<string, Buffer>();

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'reelay-images-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

/** A real image made by ffmpeg (testsrc allows odd sizes), generated once per run. */
function image(format: Generated, width: number, height: number): Buffer {
  const file = join(dir, `${width}x${height}.${FILE_EXTENSION[format]}`);
  let bytes = generated.get(file);
  if (!bytes) {
    const codec = format === 'webp' ? ['-c:v', 'libwebp'] : [];
    execFileSync(ffmpeg, ['-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc=s=${width}x${height}:r=1`, '-frames:v', '1', ...codec, file]);
    bytes = readFileSync(file);
    generated.set(file, bytes);
  }
  return bytes;
}

/** Inserts an EXIF APP1 segment (TIFF header + IFD0 with one Orientation entry) right after SOI. */
function withExifOrientation(jpeg: Buffer, orientation: number, byteOrder: 'MM' | 'II'): Buffer {
  const le = byteOrder === 'II';
  const tiff = Buffer.alloc(8 + 2 + 12 + 4);
  const u16 = (at: number, v: number) => (le ? tiff.writeUInt16LE(v, at) : tiff.writeUInt16BE(v, at));
  const u32 = (at: number, v: number) => (le ? tiff.writeUInt32LE(v, at) : tiff.writeUInt32BE(v, at));
  tiff.write(byteOrder, 0, 'latin1');
  u16(2, 42);
  u32(4, 8); // IFD0 right after the header
  u16(8, 1); // one entry
  u16(10, 0x0112); // Orientation
  u16(12, 3); // SHORT
  u32(14, 1); // one value
  u16(18, orientation);
  u32(22, 0); // no next IFD
  const body = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  return Buffer.concat([jpeg.subarray(0, 2), segment(0xe1, body), jpeg.subarray(2)]);
}

function segment(marker: number, body: Buffer): Buffer {
  const head = Buffer.from([0xff, marker, 0, 0]);
  head.writeUInt16BE(body.length + 2, 2);
  return Buffer.concat([head, body]);
}

/** A JPEG whose frame header comes after `total` bytes of comment (COM) segments. */
function withCommentsBeforeFrame(jpeg: Buffer, total: number): Buffer {
  const comments: Buffer[] = [];
  for (let left = total; left > 0; left -= 60_000) comments.push(segment(0xfe, Buffer.alloc(Math.min(60_000, left), 0x41)));
  return Buffer.concat([jpeg.subarray(0, 2), ...comments, jpeg.subarray(2)]);
}

/** A valid image followed by filler, exactly `total` bytes long (decoders ignore bytes after the end). */
function padded(bytes: Buffer, total: number): Buffer {
  return Buffer.concat([bytes, Buffer.alloc(total - bytes.length)]);
}

function dataUri(bytes: Buffer, mime = 'image/png'): string {
  return `data:${mime};base64,${bytes.toString('base64')}`;
}

// The well-known 43-byte transparent 1×1 GIF.
const TINY_GIF = Buffer.from('R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==', 'base64');

// ------------------------------------------------------------------------------------------------ helpers

function rulesOf(model: string, field: string): ImageRules {
  const spec = findModel(model)?.fields[field];
  if (!spec || (spec.type !== 'image' && spec.type !== 'images')) throw new Error(`${model}.${field} is not an image field`);
  return spec.rules;
}

function caught(run: () => unknown): ApiError {
  try {
    run();
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error('expected an ApiError, nothing was thrown');
}

/** Probes real bytes and checks them, as the submit path does for a decoded data URI. */
function check(bytes: Buffer, model: string, field: string, label = field): void {
  checkImage(probeImage(bytes), bytes.length, rulesOf(model, field), { param: field, model, label });
}

function chunked(bytes: Buffer, sizes: (offset: number) => number, pause: (index: number) => Promise<void>): Readable {
  return Readable.from(
    (async function* () {
      let index = 0;
      for (let at = 0; at < bytes.length; index++) {
        await pause(index);
        const size = sizes(at);
        yield bytes.subarray(at, at + size);
        at += size;
      }
    })(),
  );
}

const immediate = () => new Promise<void>((resolve) => setImmediate(resolve));
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// -------------------------------------------------------------------------------------------- probeImage

describe('probeImage', () => {
  it.each(ALL_FORMATS)('reads %s format and odd sizes from real files', (format) => {
    expect(probeImage(image(format, 299, 401))).toMatchObject({ format, width: 299, height: 401 });
  });

  it("normalises image-size's 'jpg' to 'jpeg' and keeps the raw type", () => {
    expect(probeImage(image('jpeg', 64, 48))).toEqual({ format: 'jpeg', width: 64, height: 48, detected: 'jpg' });
  });

  it("reports formats outside the five as 'other' with image-size's type", () => {
    expect(probeImage(image('tiff', 320, 200))).toEqual({ format: 'other', width: 320, height: 200, detected: 'tiff' });
  });

  it('returns undefined for bytes that are not an image', () => {
    expect(probeImage(Buffer.from('{"hello": "world"} this is not an image at all'))).toBeUndefined();
    expect(probeImage(Buffer.alloc(0))).toBeUndefined();
    // All zeros passes image-size's TGA signature with a 0×0 size.
    expect(probeImage(Buffer.alloc(4096))).toBeUndefined();
    expect(probeImage(image('jpeg', 64, 48).subarray(0, 100))).toBeUndefined();
  });

  it('never reads past the end of a view into a larger buffer', () => {
    // The width and height of a PNG sit at bytes 16–23; the buffer behind this view still holds them.
    const truncated = image('png', 300, 200).subarray(0, 20);
    expect(truncated.buffer.byteLength).toBeGreaterThan(20);
    expect(probeImage(truncated)).toBeUndefined();
  });

  describe('EXIF orientation (a hand-built APP1 segment in a real ffmpeg JPEG)', () => {
    const cases = [1, 2, 3, 4, 5, 6, 7, 8].flatMap((o) => (['MM', 'II'] as const).map((order) => [o, order] as const));
    it.each(cases)('orientation %i (%s) gives the displayed size', (orientation, order) => {
      const rotated = orientation >= 5;
      const info = probeImage(withExifOrientation(image('jpeg', 400, 300), orientation, order));
      expect(info).toMatchObject({ format: 'jpeg', width: rotated ? 300 : 400, height: rotated ? 400 : 300 });
    });
  });
});

// -------------------------------------------------------------------------------------------- checkImage

describe('checkImage: happyhorse-1.0 first_frame_image (short side ≥ 300, 1:2.5–2.5:1, ≤ 10 MB)', () => {
  const model = 'happyhorse-1.0';
  const field = 'first_frame_image';

  it('short side: 300 passes, 299 fails with a message naming both', () => {
    expect(() => check(image('png', 300, 400), model, field)).not.toThrow();
    expect(() => check(image('png', 400, 300), model, field)).not.toThrow();
    const e = caught(() => check(image('png', 299, 400), model, field));
    expect(e.code).toBe('invalid_image');
    expect(e.status).toBe(400);
    expect(e.param).toBe('first_frame_image');
    expect(e.message).toBe('first_frame_image is 299×400 px; happyhorse-1.0 needs a short side of at least 300 px.');
    expect(caught(() => check(image('jpeg', 400, 299), model, field)).message).toContain('400×299 px');
  });

  it('aspect: exactly 1:2.5 and 2.5:1 pass, one pixel further fails', () => {
    expect(() => check(image('png', 300, 750), model, field)).not.toThrow();
    expect(() => check(image('webp', 750, 300), model, field)).not.toThrow();
    expect(caught(() => check(image('png', 300, 751), model, field)).message).toBe(
      'first_frame_image is 300×751 px, an aspect ratio of 1:2.503 (0.399); happyhorse-1.0 accepts 1:2.5 to 2.5:1.',
    );
    expect(caught(() => check(image('png', 751, 300), model, field)).message).toContain('an aspect ratio of 2.503:1 (0.399)');
  });

  it('aspect message for a clear case', () => {
    expect(caught(() => check(image('png', 300, 900), model, field)).message).toBe(
      'first_frame_image is 300×900 px, an aspect ratio of 1:3 (0.33); happyhorse-1.0 accepts 1:2.5 to 2.5:1.',
    );
  });

  it('10 MB: a padded PNG of exactly 10 MB passes through a data URI, one byte more is refused', () => {
    const exact = padded(image('png', 400, 400), 10 * MB);
    const { bytes } = decodeDataUri(dataUri(exact), 10 * MB, field);
    expect(bytes.length).toBe(10 * MB);
    expect(() => check(bytes, model, field)).not.toThrow();

    const over = padded(image('png', 400, 400), 10 * MB + 1);
    const e = caught(() => decodeDataUri(dataUri(over), 10 * MB, { param: field, model }));
    expect(e.code).toBe('invalid_image');
    expect(e.message).toBe('first_frame_image is 10,485,761 bytes; happyhorse-1.0 accepts at most 10 MB (10,485,760 bytes).');
    // The same rule from checkImage, for images fetched from URLs.
    expect(caught(() => check(over, model, field)).message).toBe(e.message);
  });

  it('names sizes in MB when they differ visibly', () => {
    const info = probeImage(image('png', 400, 400));
    const e = caught(() => checkImage(info, Math.round(12.4 * MB), rulesOf(model, field), { param: field, model }));
    expect(e.message).toBe('first_frame_image is 12.4 MB; happyhorse-1.0 accepts at most 10 MB.');
  });
});

describe('checkImage: happyhorse-1.0 image_urls (aspect ≥ 0.4, no enforced short side)', () => {
  it('accepts a small reference image, enforces the aspect', () => {
    expect(() => check(image('png', 100, 250), 'happyhorse-1.0', 'image_urls')).not.toThrow();
    const e = caught(() => check(image('png', 100, 251), 'happyhorse-1.0', 'image_urls', 'image_urls[2]'));
    expect(e.param).toBe('image_urls');
    expect(e.message).toMatch(/^image_urls\[2\] is 100×251 px, an aspect ratio of 1:2\.51 \(0\.398\)/);
  });
});

describe('checkImage: viduq3 image_urls (≥ 128×128, 1:4–4:1, ≤ 50 MB)', () => {
  for (const model of ['viduq3', 'viduq3-mix']) {
    it(`${model}: 128×128 passes, 127 on either side fails`, () => {
      expect(() => check(image('png', 128, 128), model, 'image_urls')).not.toThrow();
      expect(caught(() => check(image('png', 127, 128), model, 'image_urls')).message).toBe(
        `image_urls is 127×128 px; ${model} needs a short side of at least 128 px.`,
      );
      expect(() => check(image('jpeg', 128, 127), model, 'image_urls')).toThrow(ApiError);
    });
  }

  it('aspect: 1:4 and 4:1 pass, 128×513 fails', () => {
    expect(() => check(image('png', 128, 512), 'viduq3', 'image_urls')).not.toThrow();
    expect(() => check(image('webp', 512, 128), 'viduq3', 'image_urls')).not.toThrow();
    expect(caught(() => check(image('png', 128, 513), 'viduq3', 'image_urls')).message).toBe(
      'image_urls is 128×513 px, an aspect ratio of 1:4.01 (0.2495); viduq3 accepts 1:4 to 4:1.',
    );
  });

  it('50 MB boundary (see also the stream tests)', () => {
    const info = probeImage(image('png', 400, 400));
    const rules = rulesOf('viduq3', 'image_urls');
    const ctx: ImageContext = { param: 'image_urls', model: 'viduq3', label: 'image_urls[0]' };
    expect(() => checkImage(info, 50 * MB, rules, ctx)).not.toThrow();
    expect(caught(() => checkImage(info, 50 * MB + 1, rules, ctx)).message).toBe(
      'image_urls[0] is 52,428,801 bytes; viduq3 accepts at most 50 MB (52,428,800 bytes).',
    );
  });
});

describe('checkImage: wan2.5-preview image_urls (short side ≥ 360, long side ≤ 2000)', () => {
  const model = 'wan2.5-preview';
  it('short side 360 passes, 359 fails', () => {
    expect(() => check(image('png', 360, 640), model, 'image_urls')).not.toThrow();
    expect(caught(() => check(image('png', 359, 640), model, 'image_urls')).message).toBe(
      'image_urls is 359×640 px; wan2.5-preview needs a short side of at least 360 px.',
    );
  });

  it('long side 2000 passes, 2001 fails', () => {
    expect(() => check(image('png', 2000, 1000), model, 'image_urls')).not.toThrow();
    expect(() => check(image('png', 1000, 2000), model, 'image_urls')).not.toThrow();
    expect(caught(() => check(image('png', 2001, 1000), model, 'image_urls')).message).toBe(
      'image_urls is 2001×1000 px; wan2.5-preview allows a long side of at most 2000 px.',
    );
    expect(() => check(image('png', 1000, 2001), model, 'image_urls')).toThrow(/long side of at most 2000 px/);
  });

  it('has no aspect rule', () => {
    expect(() => check(image('png', 360, 2000), model, 'image_urls')).not.toThrow();
  });
});

describe('checkImage: format acceptance per model, from the bytes', () => {
  // Written out from the seeds (and the sources the family files cite), not read back from the rules.
  const accepted: [model: string, field: string, formats: ImageFormat[], names: string][] = [
    ['happyhorse-1.0', 'first_frame_image', ['jpeg', 'png', 'bmp', 'webp'], 'JPEG, PNG, BMP, WebP'],
    ['happyhorse-1.0', 'image_urls', ['jpeg', 'png', 'bmp', 'webp'], 'JPEG, PNG, BMP, WebP'],
    ['viduq3', 'image_urls', ['png', 'jpeg', 'webp'], 'PNG, JPEG, WebP'],
    ['viduq3-mix', 'image_urls', ['png', 'jpeg', 'webp'], 'PNG, JPEG, WebP'],
    ['wan2.5-preview', 'image_urls', ['jpeg', 'png', 'bmp', 'webp'], 'JPEG, PNG, BMP, WebP'],
    ['veo3.1-fast-official', 'first_frame_image', ['jpeg', 'png', 'webp'], 'JPEG, PNG, WebP'],
    ['veo3.1-quality-official', 'last_frame_image', ['jpeg', 'png', 'webp'], 'JPEG, PNG, WebP'],
    ['Omni-Flash-Ext', 'image_urls', ['jpeg', 'png', 'webp'], 'JPEG, PNG, WebP'],
  ];

  it.each(accepted)('%s %s', (model, field, formats, names) => {
    for (const format of ALL_FORMATS) {
      const bytes = image(format, 400, 400);
      if (formats.includes(format)) {
        expect(() => check(bytes, model, field), format).not.toThrow();
      } else {
        const name = { png: 'PNG', jpeg: 'JPEG', webp: 'WebP', bmp: 'BMP', gif: 'GIF' }[format];
        expect(caught(() => check(bytes, model, field, `${field}[1]`)).message).toBe(
          `${field}[1] is a ${name}; ${model} accepts ${names}.`,
        );
      }
    }
    expect(caught(() => check(image('tiff', 400, 400), model, field)).message).toBe(`${field} is a TIFF; ${model} accepts ${names}.`);
  });

  it('uses the sniffed format, not the declared MIME type', () => {
    const jpegLabelledPng = decodeDataUri(dataUri(image('jpeg', 400, 400), 'image/png'), 10 * MB, 'image_urls');
    expect(jpegLabelledPng.declaredMime).toBe('image/png');
    expect(probeImage(jpegLabelledPng.bytes)?.format).toBe('jpeg');
    expect(() => check(jpegLabelledPng.bytes, 'viduq3', 'image_urls')).not.toThrow();

    const gifLabelledPng = decodeDataUri(dataUri(image('gif', 400, 400), 'image/png'), 10 * MB, 'image_urls');
    expect(caught(() => check(gifLabelledPng.bytes, 'viduq3', 'image_urls')).message).toContain('is a GIF');
  });

  it('checks the format before the size', () => {
    const info = probeImage(image('gif', 400, 400));
    expect(caught(() => checkImage(info, 60 * MB, rulesOf('viduq3', 'image_urls'), { param: 'image_urls', model: 'viduq3' })).message).toContain(
      'is a GIF',
    );
  });

  it('an unreadable image is invalid_image, naming what is accepted', () => {
    const e = caught(() => check(Buffer.from('<html>not found</html>'), 'viduq3', 'image_urls', 'image_urls[3]'));
    expect(e.code).toBe('invalid_image');
    expect(e.param).toBe('image_urls');
    expect(e.message).toBe('image_urls[3] is not an image reelay can read; viduq3 accepts PNG, JPEG, WebP.');
  });
});

// ---------------------------------------------------------------------------------------- decodeDataUri

describe('decodeDataUri', () => {
  it('decodes a real image and reports the declared MIME type lower-cased', () => {
    const png = image('png', 300, 200);
    expect(decodeDataUri(dataUri(png), MB, 'first_frame_image')).toEqual({ declaredMime: 'image/png', bytes: png });
    expect(decodeDataUri(dataUri(png, 'image/PNG'), MB, 'first_frame_image').declaredMime).toBe('image/png');
    expect(decodeDataUri(dataUri(png, 'image/svg+xml'), MB, 'first_frame_image').declaredMime).toBe('image/svg+xml');
  });

  it.each([
    ['text/plain;base64,QUJD', 'not an image type'],
    ['image/png,QUJD', 'not base64-encoded'],
    ['image/png;charset=utf-8;base64,QUJD', 'a parameter before ;base64'],
    ['image/;base64,QUJD', 'no subtype'],
    ['image png;base64,QUJD', 'no slash'],
  ])('refuses data:%s (%s) as invalid_url', (rest) => {
    const e = caught(() => decodeDataUri(`data:${rest}`, MB, 'first_frame_image'));
    expect(e.code).toBe('invalid_url');
    expect(e.param).toBe('first_frame_image');
    expect(e.message).toBe('first_frame_image is not a data URI of the form data:image/<type>;base64,<payload>.');
  });

  it('refuses anything that does not start with the prefix', () => {
    for (const uri of [' data:image/png;base64,QUJD', 'https://example.com/a.png', 'QUJD']) {
      expect(caught(() => decodeDataUri(uri, MB, 'x')).code).toBe('invalid_url');
    }
  });

  it.each([
    ['QUJD!UJD', '"!" at payload position 4 is not a base64 character'],
    ['QUJD\nQUJD', '"\\n" at payload position 4 is not a base64 character (no spaces or line breaks'],
    ['QUJD QUJD', '" " at payload position 4'],
    ['QUJD-_JD', '"-" at payload position 4 is not a base64 character (URL-safe base64 is not accepted: use + and /)'],
    ['QU=DQUJD', "'=' padding at payload position 2 is not at the end"],
    ['QUJDQ===', "'=' padding at payload position 5 is not at the end"],
    ['QUJ=QUJD', "'=' padding at payload position 3 is not at the end"],
    ['QUJDQUI', 'its length (7) is not a multiple of 4'],
    ['QUJDQ', 'its length (5) is not a multiple of 4'],
    ['QUJDQQ=', 'its length (7) is not a multiple of 4'],
  ])('refuses the payload %j as invalid_url', (payload, problem) => {
    const e = caught(() => decodeDataUri(`data:image/png;base64,${payload}`, MB, 'image_urls'));
    expect(e.code).toBe('invalid_url');
    expect(e.param).toBe('image_urls');
    expect(e.message).toContain(`image_urls is not valid base64: ${problem}`);
  });

  it('refuses an empty payload', () => {
    expect(caught(() => decodeDataUri('data:image/png;base64,', MB, 'x')).message).toBe('x is a data URI with an empty payload.');
  });

  it.each([30, 31, 32])('estimates the decoded size exactly (%i bytes: every padding length)', (n) => {
    const uri = dataUri(Buffer.alloc(n, 7));
    expect(decodeDataUri(uri, n, 'x').bytes.length).toBe(n);
    const e = caught(() => decodeDataUri(uri, n - 1, 'x'));
    expect(e.code).toBe('invalid_image');
    expect(e.message).toBe(`x is ${n} bytes; the limit is ${n - 1} bytes.`);
  });

  it('refuses an oversized payload without decoding it', () => {
    const uri = `data:image/png;base64,${'A'.repeat(14 * MB)}`; // decodes to 10.5 MB
    const from = vi.spyOn(Buffer, 'from');
    const e = caught(() => decodeDataUri(uri, 10 * MB, { param: 'first_frame_image', model: 'happyhorse-1.0' }));
    expect(e.code).toBe('invalid_image');
    expect(e.message).toBe('first_frame_image is 10.5 MB; happyhorse-1.0 accepts at most 10 MB.');
    expect(from).not.toHaveBeenCalled();
    // Control: the same payload under a higher limit is decoded through Buffer.from.
    expect(decodeDataUri(uri, 11 * MB, 'first_frame_image').bytes.length).toBe(10.5 * MB);
    expect(from).toHaveBeenCalledTimes(1);
  });

  it('refuses an oversized payload before scanning it for bad characters', () => {
    const uri = `data:image/png;base64,!${'A'.repeat(2 * MB)}`;
    expect(caught(() => decodeDataUri(uri, MB, 'x')).code).toBe('invalid_image');
  });
});

// -------------------------------------------------------------------------------------- probeImageStream

describe('probeImageStream', () => {
  it('reads an EXIF-rotated JPEG from a slow stream that sends the header a byte at a time', async () => {
    const jpeg = withExifOrientation(image('jpeg', 400, 300), 6, 'II');
    const stream = chunked(
      jpeg,
      (at) => (at < 1000 ? 1 : 4 * KB),
      (index) => (index % 100 === 0 ? sleep(2) : immediate()),
    );
    const result = await probeImageStream(stream, 10 * MB);
    expect(result).toEqual({ bytes: jpeg.length, overLimit: false, info: { format: 'jpeg', width: 300, height: 400, detected: 'jpg' } });
  });

  it.each(ALL_FORMATS)('reads %s from a chunked stream', async (format) => {
    const bytes = image(format, 333, 222);
    const result = await probeImageStream(chunked(bytes, (at) => (at < 4 * KB ? 7 : 16 * KB), immediate), 10 * MB);
    expect(result).toMatchObject({ bytes: bytes.length, overLimit: false, info: { format, width: 333, height: 222 } });
  });

  it('keeps reading a JPEG until its frame header, however many segments come first', async () => {
    const jpeg = withCommentsBeforeFrame(image('jpeg', 320, 240), 300 * KB);
    const result = await probeImageStream(chunked(jpeg, () => 4 * KB, immediate), 10 * MB);
    expect(result.info).toMatchObject({ format: 'jpeg', width: 320, height: 240 });
  });

  it(`gives up on a JPEG whose header is past the first ${PROBE_PREFIX_BYTES / MB} MB, while the whole buffer still probes`, async () => {
    const jpeg = withCommentsBeforeFrame(image('jpeg', 320, 240), PROBE_PREFIX_BYTES + 100 * KB);
    const result = await probeImageStream(chunked(jpeg, () => 64 * KB, immediate), 10 * MB);
    expect(result).toEqual({ bytes: jpeg.length, overLimit: false, info: undefined });
    expect(probeImage(jpeg)).toMatchObject({ width: 320, height: 240 });
  });

  it('reads an image shorter than any header threshold', async () => {
    const result = await probeImageStream(Readable.from([TINY_GIF]), MB);
    expect(result).toEqual({ bytes: 43, overLimit: false, info: { format: 'gif', width: 1, height: 1, detected: 'gif' } });
  });

  it('reads formats with no fixed header position by waiting for the end', async () => {
    const tiff = image('tiff', 320, 200);
    const result = await probeImageStream(chunked(tiff, () => 16 * KB, immediate), 10 * MB);
    expect(result.info).toMatchObject({ format: 'other', detected: 'tiff', width: 320, height: 200 });
  });

  it('reports a stream that is not an image', async () => {
    const result = await probeImageStream(Readable.from([Buffer.from('<html><body>404</body></html>'.repeat(100))]), MB);
    expect(result).toMatchObject({ overLimit: false, info: undefined });
  });

  it('stops an endless stream once it is over the limit and destroys it', async () => {
    const png = image('png', 400, 400);
    const filler = Buffer.alloc(64 * KB);
    const source = Readable.from(
      (function* () {
        yield png;
        for (;;) yield filler;
      })(),
    );
    const result = await probeImageStream(source, MB);
    expect(result.overLimit).toBe(true);
    expect(result.bytes).toBeGreaterThan(MB);
    expect(result.bytes).toBeLessThanOrEqual(MB + filler.length);
    expect(result.info).toMatchObject({ format: 'png', width: 400, height: 400 });
    expect(source.destroyed).toBe(true);
  });

  describe('viduq3 50 MB boundary through a stream', () => {
    const rules = () => rulesOf('viduq3', 'image_urls');
    const ctx: ImageContext = { param: 'image_urls', model: 'viduq3', label: 'image_urls[0]' };
    const streamOf = (total: number) => {
      const png = image('png', 400, 400);
      const filler = Buffer.alloc(MB);
      return Readable.from(
        (function* () {
          yield png;
          let left = total - png.length;
          for (; left >= filler.length; left -= filler.length) yield filler;
          if (left > 0) yield filler.subarray(0, left);
        })(),
      );
    };

    it('exactly 50 MB passes', async () => {
      const result = await probeImageStream(streamOf(50 * MB), 50 * MB);
      expect(result).toMatchObject({ bytes: 50 * MB, overLimit: false });
      expect(() => checkImage(result.info, result, rules(), ctx)).not.toThrow();
    });

    it('one byte more is over the limit', async () => {
      const result = await probeImageStream(streamOf(50 * MB + 1), 50 * MB);
      expect(result).toMatchObject({ bytes: 50 * MB + 1, overLimit: true });
      expect(caught(() => checkImage(result.info, result, rules(), ctx)).message).toBe('image_urls[0] is over 50 MB; viduq3 accepts at most 50 MB.');
    });
  });

  it('passes stream errors on', async () => {
    const png = image('png', 400, 400);
    const source = Readable.from(
      (async function* () {
        yield png;
        throw new Error('connection reset');
      })(),
    );
    await expect(probeImageStream(source, MB)).rejects.toThrow('connection reset');
  });
});

// ------------------------------------------------------------------------------------------- small helpers

describe('storage helpers and size formatting', () => {
  it.each(ALL_FORMATS)('%s: extension and content type match the sniffed format of a real file', (format) => {
    const info = probeImage(image(format, 32, 32)) as ImageInfo & { format: ImageFormat };
    expect(extensionFor(info.format)).toBe(FILE_EXTENSION[format]);
    expect(contentTypeFor(info.format)).toBe({ png: 'image/png', jpeg: 'image/jpeg', webp: 'image/webp', bmp: 'image/bmp', gif: 'image/gif' }[format]);
  });

  it('formats sizes in binary units', () => {
    expect(formatBytes(512)).toBe('512 bytes');
    expect(formatBytes(300 * KB)).toBe('300 KB');
    expect(formatBytes(10 * MB)).toBe('10 MB');
    expect(formatBytes(Math.round(12.4 * MB))).toBe('12.4 MB');
  });
});
