/**
 * What every ObjectStorage checks the same way, whatever its backend: keys, list prefixes, content types and
 * byte ranges, and the StorageError its refusals throw. Shared so files and S3 refuse exactly the same input.
 */
import type { ByteRange } from './types.ts';

export type StorageErrorCode = 'invalid_key' | 'invalid_content_type' | 'invalid_range' | 'range_not_satisfiable' | 'too_large';

/** A refusal every ObjectStorage reports the same way, so callers can branch on `code`. */
export class StorageError extends Error {
  constructor(
    readonly code: StorageErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'StorageError';
  }
}

// Segments stay well under NAME_MAX (255) so the file backend's `.<segment>.<random>.tmp` fits too.
const KEY_SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/;
const MAX_KEY_LENGTH = 1024;

/** Keys are relative paths of safe segments: no `..`, no empty or dot-leading segments, no exotic characters. */
export function assertValidKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH || !key.split('/').every((s) => KEY_SEGMENT.test(s))) {
    throw new StorageError('invalid_key', `invalid storage key ${JSON.stringify(key)}: use relative paths of [A-Za-z0-9._-] segments that do not start with a dot`);
  }
}

/** A list prefix is '' or a key, optionally ending in '/'. */
export function assertValidPrefix(prefix: string): void {
  if (prefix === '') return;
  assertValidKey(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
}

export function assertValidContentType(contentType: string): void {
  // It ends up in a response header: printable ASCII only, and shaped like type/subtype.
  if (typeof contentType !== 'string' || contentType.length > 255 || !/^[\x21-\x7e]+\/[\x20-\x7e]+$/.test(contentType)) {
    throw new StorageError('invalid_content_type', `invalid content type ${JSON.stringify(contentType)}`);
  }
}

export function assertValidRange(range: ByteRange): void {
  const { start, end } = range;
  const endOk = end === Infinity || Number.isSafeInteger(end);
  if (!Number.isSafeInteger(start) || start < 0 || !endOk || end < start) {
    throw new StorageError('invalid_range', `invalid byte range ${start}-${end}`);
  }
}

export function tooLarge(maxBytes: number): StorageError {
  return new StorageError('too_large', `the object is larger than ${maxBytes} bytes`);
}

/** `bytes` is the object's size when the backend told it. */
export function rangeNotSatisfiable(key: string, range: ByteRange, bytes?: number): StorageError {
  const size = bytes === undefined || !Number.isFinite(bytes) ? '' : ` (${bytes} bytes)`;
  return new StorageError('range_not_satisfiable', `range ${range.start}-${range.end} starts past the end of ${key}${size}`);
}
