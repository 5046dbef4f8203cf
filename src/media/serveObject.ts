/**
 * The HTTP side of serving a stored object, free of any framework: status, headers and body for a GET or
 * HEAD with optional Range and If-None-Match. The route checks the signed URL first, then renders this
 * (404 and 416 carry no body; the route writes its error body).
 *
 * Ranges: one range per response. When several are asked for, overlapping/adjacent ones are merged and
 * only the first is sent as a plain 206; RFC 9110 §15.3.7 lets a server send a subset since the 206 says
 * what it holds, and players seek with single ranges anyway — multipart/byteranges isn't worth its code.
 */
import type { Readable } from 'node:stream';
import parseRange from 'range-parser';
import type { ByteRange, ObjectStorage, StoredObject } from './storage/types.ts';

export interface HttpObjectRequest {
  method: 'GET' | 'HEAD';
  /** The Range header, as received. */
  range?: string;
  /** The If-None-Match header, as received. */
  ifNoneMatch?: string;
}

export interface HttpObjectResponse {
  status: 200 | 206 | 304 | 404 | 416;
  headers: Record<string, string>;
  body?: Readable;
}

function notFound(): HttpObjectResponse {
  return { status: 404, headers: {} };
}

export async function openObjectForHttp(storage: ObjectStorage, key: string, request: HttpObjectRequest): Promise<HttpObjectResponse> {
  const head = await orUndefinedForBadKey(() => storage.stat(key));
  if (!head) return notFound();

  // RFC 9110 §13.2.2: If-None-Match is evaluated before Range.
  if (request.ifNoneMatch !== undefined && noneMatchFails(request.ifNoneMatch, head.etag)) {
    return { status: 304, headers: head.etag ? { ETag: entityTag(head.etag) } : {} };
  }
  // RFC 9110 §14.2: range handling is defined for GET only, so HEAD describes the whole object.
  const wanted = request.method === 'GET' && request.range !== undefined ? pickRange(head.bytes, request.range) : undefined;
  if (wanted === 'unsatisfiable') return notSatisfiable(head.bytes);
  if (request.method === 'HEAD') return { status: 200, headers: objectHeaders(head, head.bytes) };

  let object;
  try {
    object = await storage.get(key, wanted);
  } catch (e) {
    // The object shrank between stat and get: answer for the object as it is now.
    if (!hasCode(e, 'range_not_satisfiable')) throw e;
    const now = await storage.stat(key);
    return now ? notSatisfiable(now.bytes) : notFound();
  }
  if (!object) return notFound();
  if (!object.range) return { status: 200, headers: objectHeaders(object, object.bytes), body: object.body };
  const { start, end } = object.range;
  return {
    status: 206,
    headers: { ...objectHeaders(object, end - start + 1), 'Content-Range': `bytes ${start}-${end}/${object.bytes}` },
    body: object.body,
  };
}

function objectHeaders(object: StoredObject, contentLength: number): Record<string, string> {
  return {
    'Accept-Ranges': 'bytes',
    'Content-Length': String(contentLength),
    'Content-Type': object.contentType,
    ...(object.etag ? { ETag: entityTag(object.etag) } : {}),
    'Content-Disposition': contentDispositionFor(object.key, object.contentType),
    // Stored types come from clients: never let a browser sniff an "image" into HTML.
    'X-Content-Type-Options': 'nosniff',
  };
}

function notSatisfiable(size: number): HttpObjectResponse {
  return { status: 416, headers: { 'Accept-Ranges': 'bytes', 'Content-Range': `bytes */${size}` } };
}

/** The first requested range; undefined when the header is malformed or not in bytes (then it is ignored). */
function pickRange(size: number, header: string): ByteRange | 'unsatisfiable' | undefined {
  const ranges = parseRange(size, header, { combine: true });
  if (ranges === -2) return undefined;
  if (ranges === -1) return 'unsatisfiable';
  if (ranges.type !== 'bytes') return undefined;
  return { start: ranges[0].start, end: ranges[0].end };
}

/** Weak comparison, as RFC 9110 §13.1.2 asks for If-None-Match. */
function noneMatchFails(header: string, etag: string | undefined): boolean {
  if (header.trim() === '*') return true;
  if (!etag) return false;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  const ours = opaque(entityTag(etag));
  return header.split(',').some((tag) => opaque(tag) === ours);
}

function entityTag(etag: string): string {
  return /^(W\/)?".*"$/.test(etag) ? etag : `"${etag}"`;
}

// Types a browser renders without running script; anything else (HTML, SVG, ...) is only downloaded, so a
// stored object can never act as a page on the gateway's origin.
const INLINE_TYPES = /^(video\/[\w.+-]+|audio\/[\w.+-]+|image\/(png|jpeg|gif|webp|avif|bmp))$/;

export function contentDispositionFor(key: string, contentType: string): string {
  const mediaType = contentType.split(';')[0].trim().toLowerCase();
  const disposition = INLINE_TYPES.test(mediaType) ? 'inline' : 'attachment';
  const name = key.slice(key.lastIndexOf('/') + 1);
  if (/^[A-Za-z0-9._-]+$/.test(name)) return `${disposition}; filename="${name}"`;
  // RFC 8187 ext-value: encodeURIComponent leaves ' ( ) * which attr-char does not allow.
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
  return `${disposition}; filename*=UTF-8''${encoded}`;
}

async function orUndefinedForBadKey<T>(read: () => Promise<T | undefined>): Promise<T | undefined> {
  try {
    return await read();
  } catch (e) {
    if (hasCode(e, 'invalid_key')) return undefined; // a key no storage could hold names nothing
    throw e;
  }
}

function hasCode(e: unknown, code: string): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === code;
}
