/** POST /v1/uploads/images (multipart field `file`): turns a local image into a URL the gateway accepts. */
import { openAsBlob } from 'node:fs';
import { basename, extname } from 'node:path';
import type { HttpCore } from '../core.ts';
import { unwrap } from '../core.ts';
import type { UploadedImage } from '../types.ts';

export interface UploadOptions {
  filename?: string;
  /** Defaults to the type the file name or the first bytes tell, else application/octet-stream. */
  contentType?: string;
  signal?: AbortSignal;
}

const BY_EXTENSION: Record<string, string> = {
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.bmp': 'image/bmp',
  '.gif': 'image/gif',
};

export class Uploads {
  readonly #core: HttpCore;

  constructor(core: HttpCore) {
    this.#core = core;
  }

  /** `file`: bytes, a Blob/File, or a path (read from disk as a Blob, not loaded up front). */
  async image(file: Uint8Array | Blob | string, opts: UploadOptions = {}): Promise<UploadedImage> {
    const { blob, filename } = await toBlob(file, opts);
    const form = new FormData();
    form.append('file', blob, filename);
    const res = await this.#core.request<unknown>({ method: 'POST', path: '/v1/uploads/images', body: form, signal: opts.signal });
    // The answer may come bare or in the APIMart envelope; both are accepted.
    return unwrap<UploadedImage>(res.body);
  }
}

async function toBlob(file: Uint8Array | Blob | string, opts: UploadOptions): Promise<{ blob: Blob; filename: string }> {
  if (typeof file === 'string') {
    const filename = opts.filename ?? basename(file);
    const type = opts.contentType ?? BY_EXTENSION[extname(filename).toLowerCase()] ?? 'application/octet-stream';
    return { blob: await openAsBlob(file, { type }), filename };
  }
  if (file instanceof Blob) {
    const named = (file as { name?: unknown }).name;
    const filename = opts.filename ?? (typeof named === 'string' && named !== '' ? named : 'image');
    const type = opts.contentType ?? (file.type || typeFromName(filename) || 'application/octet-stream');
    return { blob: file.type === type ? file : new Blob([file], { type }), filename };
  }
  const filename = opts.filename ?? 'image';
  const type = opts.contentType ?? typeFromName(filename) ?? sniffImageType(file) ?? 'application/octet-stream';
  return { blob: new Blob([file], { type }), filename };
}

function typeFromName(name: string): string | undefined {
  return BY_EXTENSION[extname(name).toLowerCase()];
}

/** The magic numbers of the formats the models take, for bytes that come without a name. */
export function sniffImageType(bytes: Uint8Array): string | undefined {
  const starts = (sig: number[], at = 0) => sig.every((b, i) => bytes[at + i] === b);
  if (starts([0x89, 0x50, 0x4e, 0x47])) return 'image/png';
  if (starts([0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (starts([0x52, 0x49, 0x46, 0x46]) && starts([0x57, 0x45, 0x42, 0x50], 8)) return 'image/webp';
  if (starts([0x47, 0x49, 0x46, 0x38])) return 'image/gif';
  if (starts([0x42, 0x4d])) return 'image/bmp';
  return undefined;
}
