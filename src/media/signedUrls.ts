/**
 * Gateway-signed URLs for stored objects: `<base>/files/<key>?expires=<unix s>&sig=<HMAC>`.
 *
 * The HMAC covers a purpose tag, the expiry and the decoded key, so a URL can be neither extended nor
 * pointed at another object, and the secret cannot be replayed for another purpose.
 */
import { createHmac, createSecretKey, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

export type SignatureCheck = 'ok' | 'expired' | 'bad_signature';

const PURPOSE = 'reelay-files-v1';
const MIN_SECRET_BYTES = 32;
// Canonical decimal only: "010" or "1e9" would sign the same instant under another spelling.
const EXPIRES_PATTERN = /^(0|[1-9][0-9]{0,14})$/;

export class UrlSigner {
  /** A KeyObject: createHmac then skips copying and checking a raw key on every signature. */
  readonly #secret: KeyObject;
  readonly #base: string;
  /** The base's origin and the path prefix of its files, for keyOf (parsed once, not per URL checked). */
  readonly #origin: string;
  readonly #filesPath: string;

  constructor(secret: Buffer, publicBaseUrl: string) {
    if (secret.length < MIN_SECRET_BYTES) throw new Error(`the URL signing secret must be at least ${MIN_SECRET_BYTES} bytes`);
    const url = new URL(publicBaseUrl);
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.search || url.hash) {
      throw new Error(`the public base URL must be a plain http(s) URL, got ${publicBaseUrl}`);
    }
    this.#secret = createSecretKey(Buffer.from(secret));
    const basePath = url.pathname.replace(/\/+$/, '');
    this.#base = url.origin + basePath;
    this.#origin = url.origin;
    this.#filesPath = `${basePath}/files/`;
  }

  /** An absolute URL that serves `key` until `expiresAt` (unix seconds, exclusive). */
  sign(key: string, expiresAt: number): string {
    if (!Number.isSafeInteger(expiresAt) || expiresAt < 0) throw new TypeError(`expiresAt must be whole unix seconds, got ${expiresAt}`);
    const expires = String(expiresAt);
    return `${this.#base}/files/${encodeKeyPath(key)}?expires=${expires}&sig=${this.#mac(key, expires)}`;
  }

  /** Checks the signature before the expiry, so a forged URL never learns whether it would have expired. */
  verify(key: string, expires: string | number | undefined, sig: string | undefined, nowSeconds: number): SignatureCheck {
    const expiresText = typeof expires === 'number' ? String(expires) : expires;
    if (expiresText === undefined || !EXPIRES_PATTERN.test(expiresText) || sig === undefined) return 'bad_signature';
    const expected = Buffer.from(this.#mac(key, expiresText));
    const given = Buffer.from(sig);
    // Compare the canonical text, not decoded bytes: base64 decoders skip junk characters.
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'bad_signature';
    return nowSeconds < Number(expiresText) ? 'ok' : 'expired';
  }

  /**
   * The storage key of `url` when it is one of this signer's own URLs, unexpired and correctly signed at
   * `nowSeconds`; undefined for any other URL.
   */
  keyOf(url: string, nowSeconds: number): string | undefined {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return undefined;
    }
    const prefix = this.#filesPath;
    if (u.origin !== this.#origin || !u.pathname.startsWith(prefix)) return undefined;
    let key: string;
    try {
      key = u.pathname.slice(prefix.length).split('/').map(decodeURIComponent).join('/');
    } catch {
      return undefined; // malformed percent-encoding
    }
    const verdict = this.verify(key, u.searchParams.get('expires') ?? undefined, u.searchParams.get('sig') ?? undefined, nowSeconds);
    return verdict === 'ok' ? key : undefined;
  }

  #mac(key: string, expires: string): string {
    return createHmac('sha256', this.#secret).update(`${PURPOSE}\n${expires}\n${key}`).digest('base64url');
  }
}

/**
 * The key as URL path segments. Empty, `.` and `..` segments are refused: URL parsers collapse them
 * (even percent-encoded), so the URL would name another path.
 */
export function encodeKeyPath(key: string): string {
  const segments = key.split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..')) throw new TypeError(`cannot put key ${JSON.stringify(key)} in a URL path`);
  return segments.map(encodeURIComponent).join('/');
}

/**
 * The secret in `file` (its bytes without surrounding whitespace, used as the HMAC key), created with 32 random bytes and mode
 * 0600 when the file does not exist. Creation is exclusive, so two processes starting together agree.
 */
export async function loadOrCreateSecret(file: string): Promise<Buffer> {
  try {
    return parseSecret(await readFile(file), file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  await mkdir(path.dirname(file), { recursive: true });
  try {
    await writeFile(file, randomBytes(32).toString('base64url') + '\n', { mode: 0o600, flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  return parseSecret(await readFile(file), file);
}

function parseSecret(content: Buffer, file: string): Buffer {
  // Trim bytes, not decoded text, so a binary secret is used exactly as written.
  const isSpace = (b: number | undefined) => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;
  let start = 0;
  let end = content.length;
  while (start < end && isSpace(content[start])) start++;
  while (end > start && isSpace(content[end - 1])) end--;
  const secret = content.subarray(start, end);
  if (secret.length < MIN_SECRET_BYTES) {
    throw new Error(`${file}: the URL signing secret must be at least ${MIN_SECRET_BYTES} bytes; delete the file to have a new one generated`);
  }
  return secret;
}
