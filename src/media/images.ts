/**
 * Input images: decoding data URIs, sniffing an image's real format and displayed size from its bytes, and
 * checking both against a model's ImageRules with messages that say what the image is and what is allowed.
 *
 * Only headers are read (image-size), never pixels: the rules are about format, bytes and dimensions, and
 * the upstream decodes the image anyway.
 */
import type { Readable } from 'node:stream';
import { imageSize } from 'image-size';
import { ApiError } from '../errors.ts';
import type { ImageFormat, ImageRules } from '../models/spec.ts';

const KB = 1024;
const MB = 1024 * KB;

export interface ImageInfo {
  format: ImageFormat | 'other';
  /** As displayed: a JPEG whose EXIF orientation is a quarter turn (5–8) has width and height swapped. */
  width: number;
  height: number;
  /** image-size's own type name ('jpg', 'tiff', 'heic', ...), used to name an 'other' format in messages. */
  detected?: string;
}

/** Who the image belongs to, for error messages. */
export interface ImageContext {
  /** The request field, reported as the error's param (e.g. image_urls). */
  param: string;
  model: string;
  /** How the image is named in messages when it differs from param (e.g. image_urls[1]). */
  label?: string;
}

/** What was read from an image behind a URL. */
export interface StreamProbe {
  /** Bytes read: the whole image, or with overLimit, how far reading went before it stopped. */
  bytes: number;
  /** The image is larger than the limit; the rest was not read. */
  overLimit: boolean;
  info: ImageInfo | undefined;
}

// ---------------------------------------------------------------------------------------------- data URIs

// Same shape as the request validator's check (models/validate.ts), so anything it lets through parses here.
// MIME types are case-insensitive (RFC 2045), so data:image/PNG is accepted and reported lower-cased.
const DATA_URI_PREFIX = /^data:(image\/[a-z0-9.+-]+);base64,/i;
const NOT_BASE64 = /[^A-Za-z0-9+/=]/;

/**
 * Decodes `data:image/<type>;base64,<payload>`. A malformed URI, including a payload that is not strict,
 * padded base64, is `invalid_url`: the catalogue defines that code for data URIs, and it tells the client
 * the encoding is wrong rather than the picture. A payload too large for `maxBytes` is `invalid_image`,
 * refused from its length alone, before it is scanned or decoded, so it costs no memory.
 * `param` is the field name, or an ImageContext so the size message can name the model as checkImage does.
 */
export function decodeDataUri(
  uri: string,
  maxBytes: number,
  param: string | ImageContext,
): { declaredMime: string; bytes: Buffer } {
  const ctx = typeof param === 'string' ? { param, label: param } : { ...param, label: param.label ?? param.param };
  const fail = (message: string): never => {
    throw new ApiError('invalid_url', `${ctx.label} ${message}`, ctx.param);
  };
  const prefix = DATA_URI_PREFIX.exec(uri);
  if (!prefix) return fail('is not a data URI of the form data:image/<type>;base64,<payload>.');
  const payloadStart = prefix[0].length;
  const payloadLength = uri.length - payloadStart;
  if (payloadLength === 0) return fail('is a data URI with an empty payload.');

  const padding = uri.endsWith('==') ? 2 : uri.endsWith('=') ? 1 : 0;
  const decodedLength = Math.floor((payloadLength * 3) / 4) - padding;
  if (decodedLength > maxBytes) {
    throw new ApiError('invalid_image', sizeMessage(ctx.label, decodedLength, maxBytes, 'model' in ctx ? ctx.model : undefined), ctx.param);
  }

  const payload = uri.slice(payloadStart);
  const problem = base64Problem(payload);
  if (problem) return fail(`is not valid base64: ${problem}.`);
  return { declaredMime: prefix[1].toLowerCase(), bytes: Buffer.from(payload, 'base64') };
}

/** Why `payload` is not strict, padded base64 (RFC 4648 §4), or undefined when it is. */
function base64Problem(payload: string): string | undefined {
  const bad = NOT_BASE64.exec(payload);
  if (bad) {
    const hint = /\s/.test(bad[0])
      ? ' (no spaces or line breaks: encode without wrapping, e.g. base64 -w 0)'
      : bad[0] === '-' || bad[0] === '_'
        ? ' (URL-safe base64 is not accepted: use + and /)'
        : '';
    return `${JSON.stringify(bad[0])} at payload position ${bad.index} is not a base64 character${hint}`;
  }
  const firstPad = payload.indexOf('=');
  if (firstPad !== -1 && (firstPad < payload.length - 2 || !/^=+$/.test(payload.slice(firstPad)))) {
    return `'=' padding at payload position ${firstPad} is not at the end`;
  }
  if (payload.length % 4 !== 0) return `its length (${payload.length}) is not a multiple of 4; pad it with '='`;
  return undefined;
}

// ------------------------------------------------------------------------------------------------ probing

const FORMAT_BY_TYPE: Record<string, ImageFormat> = { jpg: 'jpeg', png: 'png', bmp: 'bmp', webp: 'webp', gif: 'gif' };

/** Format and displayed size from the bytes, or undefined when image-size cannot read a size from them. */
export function probeImage(bytes: Uint8Array): ImageInfo | undefined {
  const header = isJpeg(bytes) ? bytes.subarray(0, jpegHeaderEnd(bytes).end ?? bytes.length) : bytes;
  let size: ReturnType<typeof imageSize>;
  try {
    size = imageSize(ownArrayBuffer(header));
  } catch {
    return undefined;
  }
  const { width, height } = size;
  // Weak signatures (TGA is "starts with zeros") match arbitrary bytes with a 0×0 or garbage size.
  if (!isSide(width) || !isSide(height)) return undefined;
  const detected = size.type ?? 'unknown';
  const format = FORMAT_BY_TYPE[detected] ?? 'other';
  const quarterTurn = format === 'jpeg' && size.orientation !== undefined && size.orientation >= 5 && size.orientation <= 8;
  return quarterTurn ? { format, width: height, height: width, detected } : { format, width, height, detected };
}

function isSide(n: number): boolean {
  return Number.isInteger(n) && n > 0;
}

/**
 * image-size reads through a DataView over `input.buffer`, so on a view into a larger ArrayBuffer (Node's
 * pooled small Buffers, a prefix of a bigger buffer) a truncated header would be "completed" with whatever
 * bytes follow in memory. A view that owns its whole ArrayBuffer makes such reads fail instead.
 */
function ownArrayBuffer(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.byteLength ? bytes : new Uint8Array(bytes);
}

function isJpeg(bytes: Uint8Array): boolean {
  return bytes[0] === 0xff && bytes[1] === 0xd8;
}

/**
 * Walks a JPEG's marker segments up to the frame header (SOFn), which holds the size; EXIF (APP1) comes
 * before it. `end` is the offset just past the frame header; otherwise the bytes are incomplete or malformed.
 */
function jpegHeaderEnd(bytes: Uint8Array): { end?: number; state: 'complete' | 'incomplete' | 'malformed' } {
  let at = 2;
  for (;;) {
    if (at + 2 > bytes.length) return { state: 'incomplete' };
    if (bytes[at] !== 0xff) return { state: 'malformed' };
    const marker = bytes[at + 1];
    if (marker === 0xff) {
      at += 1; // fill byte before a marker
      continue;
    }
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      at += 2; // RSTn / TEM have no length field
      continue;
    }
    // Image data or the end of the image before any frame header.
    if (marker === 0xda || marker === 0xd9) return { state: 'malformed' };
    if (at + 4 > bytes.length) return { state: 'incomplete' };
    const length = (bytes[at + 2] << 8) | bytes[at + 3];
    if (length < 2) return { state: 'malformed' };
    const end = at + 2 + length;
    if (isStartOfFrame(marker)) return end <= bytes.length ? { end, state: 'complete' } : { state: 'incomplete' };
    at = end;
  }
}

/** SOF0–SOF15 except DHT (C4), JPG (C8) and DAC (CC), which share the range. */
function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

/** At most this much of a fetched image is kept for probing; JPEG headers (EXIF, ICC) rarely exceed it. */
export const PROBE_PREFIX_BYTES = 1 * MB;
/** Enough for the fixed headers of PNG (24, 32 for Apple's CgBI), GIF (10), BMP (26) and WebP (30). */
const FIXED_HEADER_BYTES = 64;

/**
 * Reads an image stream to count its bytes, keeping only the prefix that probing needs. Stops (and
 * destroys the stream) as soon as more than `maxBytes` have arrived. Stream errors propagate.
 */
export async function probeImageStream(stream: Readable, maxBytes: number): Promise<StreamProbe> {
  const cap = Math.min(PROBE_PREFIX_BYTES, maxBytes);
  let prefix: Buffer = Buffer.alloc(0);
  let kept = 0;
  let decided = false;
  let info: ImageInfo | undefined;
  let bytes = 0;

  for await (const chunk of stream) {
    const data: Uint8Array = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Uint8Array);
    bytes += data.length;
    if (!decided) {
      const take = Math.min(data.length, cap - kept);
      if (kept + take > prefix.length) prefix = grow(prefix, kept, Math.min(cap, Math.max(64 * KB, (kept + take) * 2)));
      prefix.set(data.subarray(0, take), kept);
      kept += take;
      const verdict = probeIfReady(prefix.subarray(0, kept), kept >= cap);
      if (verdict !== 'wait') {
        decided = true;
        info = verdict;
        prefix = Buffer.alloc(0); // only the count matters from here on
      }
    }
    if (bytes > maxBytes) {
      // Leaving the loop destroys the stream, so the rest is never downloaded.
      return { bytes, overLimit: true, info: decided ? info : probeImage(prefix.subarray(0, kept)) };
    }
  }
  return { bytes, overLimit: false, info: decided ? info : probeImage(prefix.subarray(0, kept)) };
}

function grow(buffer: Buffer, used: number, size: number): Buffer {
  const bigger = Buffer.alloc(size);
  buffer.copy(bigger, 0, 0, used);
  return bigger;
}

/** Probes once the prefix surely holds the header; 'wait' while more bytes could still change the answer. */
function probeIfReady(prefix: Buffer, full: boolean): ImageInfo | undefined | 'wait' {
  if (full) return probeImage(prefix);
  if (prefix.length < FIXED_HEADER_BYTES) return 'wait';
  if (isJpeg(prefix)) return jpegHeaderEnd(prefix).state === 'incomplete' ? 'wait' : probeImage(prefix);
  if (hasFixedHeader(prefix)) return probeImage(prefix);
  // Other formats (TIFF, HEIF, ...) may keep their size anywhere: wait for the end of the stream or the cap.
  return 'wait';
}

function hasFixedHeader(bytes: Buffer): boolean {
  const ascii = (from: number, to: number) => bytes.toString('latin1', from, to);
  return (
    ascii(0, 8) === '\x89PNG\r\n\x1a\n' ||
    ascii(0, 4) === 'GIF8' ||
    ascii(0, 2) === 'BM' ||
    (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP')
  );
}

// --------------------------------------------------------------------------------------------- the rules

/**
 * Throws invalid_image when the image breaks a rule, checked in this order: readable, format, bytes,
 * short side, long side, aspect. The format is the sniffed one, never the declared MIME type or the URL's
 * extension: clients mislabel images (a JPEG sent as data:image/png), and what the upstream decodes is the
 * bytes, so a label would let a GIF through as "png". The side and aspect rules are symmetric, so the EXIF
 * swap in probeImage never changes whether they pass; it matters for the output aspect taken from the image.
 */
export function checkImage(
  info: ImageInfo | undefined,
  size: number | { bytes: number; overLimit: boolean },
  rules: ImageRules,
  ctx: ImageContext,
): void {
  const label = ctx.label ?? ctx.param;
  const fail = (message: string): never => {
    throw new ApiError('invalid_image', message, ctx.param);
  };
  const formats = rules.formats.map((f) => FORMAT_NAMES[f]).join(', ');
  if (!info) return fail(`${label} is not an image reelay can read; ${ctx.model} accepts ${formats}.`);
  if (info.format === 'other' || !rules.formats.includes(info.format)) {
    return fail(`${label} is ${describeFormat(info)}; ${ctx.model} accepts ${formats}.`);
  }

  const bytes = typeof size === 'number' ? size : size.bytes;
  const overLimit = typeof size !== 'number' && size.overLimit;
  if (overLimit || bytes > rules.maxBytes) {
    const limit = formatBytes(rules.maxBytes);
    return fail(overLimit ? `${label} is over ${limit}; ${ctx.model} accepts at most ${limit}.` : sizeMessage(label, bytes, rules.maxBytes, ctx.model));
  }

  const { width, height } = info;
  const short = Math.min(width, height);
  const long = Math.max(width, height);
  const dimensions = `${width}×${height} px`;
  if (rules.minShortSide !== undefined && short < rules.minShortSide) {
    return fail(`${label} is ${dimensions}; ${ctx.model} needs a short side of at least ${rules.minShortSide} px.`);
  }
  if (rules.maxLongSide !== undefined && long > rules.maxLongSide) {
    return fail(`${label} is ${dimensions}; ${ctx.model} allows a long side of at most ${rules.maxLongSide} px.`);
  }
  // The relative tolerance absorbs float error, so an exact 1:2.5 (400×1000) passes a minAspect of 1/2.5.
  if (rules.minAspect !== undefined && short / long < rules.minAspect * (1 - 1e-12)) {
    const limit = 1 / rules.minAspect;
    const ratio = formatDistinct(long / short, limit);
    const shown = width >= height ? `${ratio}:1` : `1:${ratio}`;
    const allowed = `1:${formatDistinct(limit)} to ${formatDistinct(limit)}:1`;
    return fail(
      `${label} is ${dimensions}, an aspect ratio of ${shown} (${formatDistinct(short / long, rules.minAspect)}); ${ctx.model} accepts ${allowed}.`,
    );
  }
}

const FORMAT_NAMES: Record<ImageFormat, string> = { jpeg: 'JPEG', png: 'PNG', bmp: 'BMP', webp: 'WebP', gif: 'GIF' };

/** image-size types other than the five formats, with their article. */
const OTHER_FORMAT_NAMES: Record<string, string> = {
  tiff: 'a TIFF',
  svg: 'an SVG',
  avif: 'an AVIF',
  heic: 'a HEIC',
  heif: 'a HEIF',
  ico: 'an ICO icon',
  cur: 'a CUR cursor',
  icns: 'an ICNS icon',
  psd: 'a Photoshop PSD',
  j2c: 'a JPEG 2000',
  jp2: 'a JPEG 2000',
  jxl: 'a JPEG XL',
  'jxl-stream': 'a JPEG XL',
  tga: 'a TGA',
  pnm: 'a PNM',
  dds: 'a DDS texture',
  ktx: 'a KTX texture',
};

function describeFormat(info: ImageInfo): string {
  if (info.format !== 'other') return `a ${FORMAT_NAMES[info.format]}`;
  const detected = info.detected ?? '';
  return OTHER_FORMAT_NAMES[detected] ?? (detected ? `an image of type ${detected}` : 'an image in an unsupported format');
}

function sizeMessage(label: string, bytes: number, maxBytes: number, model: string | undefined): string {
  const who = model ? `${model} accepts at most` : 'the limit is';
  // Rounded sizes can coincide ("10 MB; accepts at most 10 MB"); then exact byte counts show the difference.
  if (formatBytes(bytes) === formatBytes(maxBytes)) {
    return `${label} is ${bytes.toLocaleString('en-US')} bytes; ${who} ${formatBytes(maxBytes)} (${maxBytes.toLocaleString('en-US')} bytes).`;
  }
  return `${label} is ${formatBytes(bytes)}; ${who} ${formatBytes(maxBytes)}.`;
}

/** 12.4 MB, 300 KB, 512 bytes; in binary units, as the family files write their limits. */
export function formatBytes(bytes: number): string {
  if (bytes >= MB) return `${round(bytes / MB, 1)} MB`;
  if (bytes >= KB) return `${round(bytes / KB, 1)} KB`;
  return `${bytes} bytes`;
}

/** `value` to 2 decimals, or more when 2 would make it look equal to `other` (2.503 next to 2.5). */
function formatDistinct(value: number, other?: number): string {
  for (let decimals = 2; other !== undefined && decimals < 6; decimals++) {
    if (round(value, decimals) !== round(other, decimals)) return String(round(value, decimals));
  }
  return String(round(value, other === undefined ? 2 : 6));
}

function round(value: number, decimals: number): number {
  return Number(value.toFixed(decimals));
}

// ----------------------------------------------------------------------------------------------- storage

const EXTENSIONS: Record<ImageFormat, string> = { jpeg: 'jpg', png: 'png', bmp: 'bmp', webp: 'webp', gif: 'gif' };

/** File extension for a stored image, without the dot. */
export function extensionFor(format: ImageFormat): string {
  return EXTENSIONS[format];
}

/** Content-Type for a stored image: from the sniffed format, never the client's declared MIME type. */
export function contentTypeFor(format: ImageFormat): string {
  return `image/${format}`;
}
