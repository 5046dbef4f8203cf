/**
 * POST /v1/uploads/images (multipart, field `file`) — stores an image for use as an input and answers
 * {url, filename, content_type, bytes, created_at}. The file streams into storage; only its head (≤ 1 MB)
 * is held in memory, to learn its format before the object is named. Oversized uploads get 413 as soon as
 * the limit is passed (or at once, from Content-Length).
 */
import { Readable } from 'node:stream';
import multipart from '@fastify/multipart';
import type { FastifyInstance } from 'fastify';
import { monotonicFactory } from 'ulid';
import { ApiError } from '../../errors.ts';
import { contentTypeFor, extensionFor, probeImage, PROBE_PREFIX_BYTES } from '../../media/images.ts';
import type { ImageFormat } from '../../models/spec.ts';
import type { AppContext } from '../context.ts';

const ulid = monotonicFactory();
const ACCEPTED: ImageFormat[] = ['jpeg', 'png', 'gif', 'webp', 'bmp'];

export function uploadRoutes(ctx: AppContext) {
  const limit = ctx.config.limits.upload_limit_bytes;
  return async (app: FastifyInstance) => {
    await app.register(multipart, { limits: { fileSize: limit, files: 1, fields: 10, parts: 20 }, throwFileSizeLimit: true });

    app.post('/uploads/images', async (req, reply) => {
      const length = Number(req.headers['content-length']);
      if (Number.isFinite(length) && length > limit + 64 * 1024) {
        reply.header('connection', 'close');
        throw new ApiError('body_too_large', `The upload is ${length} bytes; images may be at most ${limit} bytes.`, 'file');
      }
      if (!req.isMultipart()) throw new ApiError('invalid_upload', 'Send the image as multipart/form-data with a field named "file".', 'file');
      const part = await req.file();
      if (!part || part.fieldname !== 'file') throw new ApiError('invalid_upload', 'The multipart body has no field named "file".', 'file');

      const { head, rest } = await readHead(part.file, PROBE_PREFIX_BYTES);
      const info = probeImage(head);
      if (!info || info.format === 'other' || !ACCEPTED.includes(info.format)) {
        rest.destroy();
        throw new ApiError('invalid_image', `file is not an image reelay accepts (JPEG, PNG, GIF, WebP, BMP).`, 'file');
      }
      const now = new Date();
      const key = `uploads/${now.toISOString().slice(0, 10)}/${ulid()}.${extensionFor(info.format)}`;
      const contentType = contentTypeFor(info.format);
      const body = Readable.from((async function* () {
        yield head;
        for await (const chunk of rest) yield chunk as Buffer;
      })());
      const tooLarge = () => new ApiError('body_too_large', `The image is larger than ${limit} bytes, the most an upload may be.`, 'file');
      let stored;
      try {
        stored = await ctx.storage.put(key, body, { contentType, maxBytes: limit });
      } catch (e) {
        if ((e as { code?: string }).code === 'too_large' || part.file.truncated) throw tooLarge();
        throw e;
      }
      // Busboy stops a file at `fileSize` by ending its stream early (truncated), not with an error, so
      // a file just over the limit arrives as exactly `limit` bytes: a cut-off image that must not be kept.
      if (part.file.truncated) {
        await ctx.storage.delete(key).catch(() => undefined);
        throw tooLarge();
      }
      const expiresAt = Math.floor(now.getTime() / 1000) + ctx.config.retention.upload_ttl_seconds;
      reply.code(200);
      return {
        url: ctx.urlFor(key, expiresAt),
        filename: part.filename,
        content_type: contentType,
        bytes: stored.bytes,
        width: info.width,
        height: info.height,
        created_at: Math.floor(now.getTime() / 1000),
        expires_at: expiresAt,
      };
    });
  };
}

/** Reads up to `max` bytes of a stream and hands back those bytes and the (paused) remainder. */
async function readHead(stream: Readable, max: number): Promise<{ head: Buffer; rest: Readable }> {
  const chunks: Buffer[] = [];
  let size = 0;
  const it = stream[Symbol.asyncIterator]();
  let done = false;
  while (size < max) {
    const next = await it.next();
    if (next.done) {
      done = true;
      break;
    }
    chunks.push(next.value as Buffer);
    size += (next.value as Buffer).length;
  }
  const rest = done ? Readable.from([]) : Readable.from({ [Symbol.asyncIterator]: () => it });
  return { head: Buffer.concat(chunks), rest };
}
