/**
 * s3rver in its own process (see s3rver.ts for why), with the gaps that matter to the storage contract closed
 * so the emulator behaves like S3 where reelay relies on it:
 *  - PutObject and CompleteMultipartUpload publish atomically (temp file + rename). s3rver 3.7 truncates and
 *    rewrites the object file in place, so concurrent puts interleave and readers see partial objects —
 *    something S3 never shows and reelay's S3 backend cannot prevent from the client side.
 *  - AbortMultipartUpload (s3rver answers 405) and ListMultipartUploads (501), so tests can check that a
 *    failed put leaves no upload behind.
 * Usage: node --import tsx s3rverChild.ts <directory> <bucket>; prints {"port": n} once listening.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import S3rver, { type S3rverContext } from 's3rver';
import FilesystemStore, { type S3rverObject } from 's3rver/lib/stores/filesystem.js';

class AtomicStore extends FilesystemStore {
  override async putObject(object: S3rverObject): Promise<{ size: number; md5: string }> {
    const objectPath = this.getResourcePath(object.bucket, object.key, 'object');
    await mkdir(path.dirname(objectPath), { recursive: true });
    // Ends in .tmp, not ._S3rver_object, so listings skip it.
    const temp = `${objectPath}.${randomBytes(6).toString('hex')}.tmp`;
    const md5 = createHash('md5');
    let size = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        md5.update(chunk);
        size += chunk.length;
        done(null, chunk);
      },
    });
    try {
      const content = Buffer.isBuffer(object.content) ? Readable.from([object.content]) : object.content;
      await pipeline(content, counter, createWriteStream(temp));
      const digest = md5.digest('hex');
      await this.putMetadata(object.bucket, object.key, object.metadata, digest);
      await rename(temp, objectPath);
      return { size, md5: digest };
    } finally {
      await rm(temp, { force: true });
    }
  }
}

const [directory, bucket] = process.argv.slice(2);
const store = new AtomicStore(directory);
const uploadsDir = (b: string) => store.getResourcePath(b, undefined, 'uploads');

/** AbortMultipartUpload and ListMultipartUploads, path-style only; everything else goes to s3rver. */
async function multipartGaps(ctx: S3rverContext, next: () => Promise<void>): Promise<void> {
  const [, b, ...rest] = ctx.path.split('/');
  const key = rest.join('/');
  const uploadId = ctx.query.uploadId;
  if (ctx.method === 'DELETE' && key !== '' && typeof uploadId === 'string') {
    const dir = path.join(uploadsDir(b), path.basename(uploadId));
    const exists = await readdir(dir).then(() => true, () => false);
    await rm(dir, { recursive: true, force: true });
    if (exists) ctx.status = 204;
    else xml(ctx, 404, '<Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist.</Message></Error>');
    return;
  }
  if (ctx.method === 'GET' && key === '' && 'uploads' in ctx.query) {
    const ids = await readdir(uploadsDir(b)).catch(() => [] as string[]);
    const uploads = await Promise.all(ids.map(async (id) => ({ id, key: await readFile(path.join(uploadsDir(b), id, 'key'), 'utf8') })));
    const items = uploads.map((u) => `<Upload><Key>${escape(u.key)}</Key><UploadId>${escape(u.id)}</UploadId></Upload>`).join('');
    xml(ctx, 200, `<ListMultipartUploadsResult><Bucket>${escape(b)}</Bucket><IsTruncated>false</IsTruncated>${items}</ListMultipartUploadsResult>`);
    return;
  }
  await next();
}

function xml(ctx: S3rverContext, status: number, body: string): void {
  ctx.status = status;
  ctx.type = 'application/xml';
  ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n${body}`;
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const server = new S3rver({ directory, address: '127.0.0.1', port: 0, silent: true, configureBuckets: [{ name: bucket }] });
server.store = server.context.store = store;
server.middleware.unshift(multipartGaps); // Koa composes the list when run() starts listening
const { port } = await server.run();
process.stdout.write(JSON.stringify({ port }) + '\n');
// The test process owns this one: when it goes (even killed), so does the server.
process.on('disconnect', () => void server.close().finally(() => process.exit(0)));
