/**
 * The fast path: the two requests a client sends many times per task — submit
 * (`POST /v1/videos/generations`) and poll (`GET /v1/tasks/{id}`) — answered straight from `node:http`,
 * in front of Fastify. Fastify's per-request machinery (request and reply objects, a child logger, hooks,
 * the content-type parser chain) cost more CPU than the answer itself (docs/decisions/0012-performance.md).
 *
 * Nothing here is a second implementation: authentication, the submit, the task view, error bodies, the
 * access line and the metrics are the functions Fastify's routes call. Only the plain case is taken; any
 * request that is not — another route or method, a query string, a percent-encoded or over-long id, no
 * content type or a multipart one, a body without a length or over 1 MiB, a gateway that is shutting
 * down — is handed to Fastify untouched, before a byte of its body is read.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from '../errors.ts';
import type { ApiKeyRecord } from '../store/types.ts';
import type { AppContext } from './context.ts';
import { admitKey } from './auth.ts';
import { requestIdFor } from './requestId.ts';
import { recordRequest } from './accessLog.ts';
import { submitVideo } from './routes/videos.ts';
import { pollTask } from './routes/tasks.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const SUBMIT_URL = '/v1/videos/generations';
const TASK_PREFIX = '/v1/tasks/';
/** Ids the poll route can find; anything else (Fastify decodes and answers it) takes the slow path. */
const PLAIN_ID = /^[A-Za-z0-9_-]{1,64}$/;
/** Larger bodies (inline images) go to Fastify, which streams them against the configured limit. */
const FAST_BODY_LIMIT = 1 << 20;

export function fastPath(ctx: AppContext, fallback: Handler): Handler {
  const bodyLimit = Math.min(FAST_BODY_LIMIT, ctx.config.limits.body_limit_bytes);

  return (req, res) => {
    const url = req.url ?? '';
    if (!ctx.accepting()) return fallback(req, res);
    if (req.method === 'GET' && url.startsWith(TASK_PREFIX)) {
      const id = url.slice(TASK_PREFIX.length);
      if (!PLAIN_ID.test(id)) return fallback(req, res);
      return answer(ctx, req, res, '/v1/tasks/:id', (key) => pollTask(ctx, key, id));
    }
    if (req.method === 'POST' && url === SUBMIT_URL) {
      const type = req.headers['content-type'];
      const length = Number(req.headers['content-length']);
      if (!type || type.startsWith('multipart/') || req.headers['transfer-encoding'] !== undefined || !(length <= bodyLimit)) return fallback(req, res);
      return answer(ctx, req, res, SUBMIT_URL, async (key, headers) => {
        const { payload, replayed } = await submitVideo(ctx, key, await readJson(req), req.headers);
        if (replayed) headers['Idempotency-Replayed'] = 'true';
        return payload;
      });
    }
    fallback(req, res);
  };
}

/**
 * Answers are written together, after every request that arrived in this turn of the event loop has been
 * read (setImmediate runs after the loop's I/O callbacks). On loopback and in VMs, the `writev` that sends
 * an answer runs the client's receive path and wakes the client if it sleeps; written one by one, between
 * reads, each answer woke a client that had gone back to sleep, and that `writev` cost more than the whole
 * request of the bare node:http baseline. Written in a burst, the client is woken once and reads them all:
 * CPU per refused body fell from 109 to 48 µs, per poll from 126 to 69 µs (docs/decisions/0012-performance.md).
 * The delay is the rest of the current loop turn.
 */
let answers: (() => void)[] = [];
function answerLater(write: () => void): void {
  if (answers.length === 0) setImmediate(writeAnswers);
  answers.push(write);
}
function writeAnswers(): void {
  const batch = answers;
  answers = [];
  for (const write of batch) write();
}

/** Authenticates, runs `handle`, answers its payload or the error it threw, and records the request. */
function answer(
  ctx: AppContext,
  req: IncomingMessage,
  res: ServerResponse,
  route: string,
  handle: (key: ApiKeyRecord, headers: Record<string, string>) => Promise<unknown>,
): void {
  const started = performance.now();
  const reqId = requestIdFor(req.headers['x-request-id']);
  const headers: Record<string, string> = { 'x-request-id': reqId };
  const send = (status: number, payload: unknown) => {
    const body = JSON.stringify(payload);
    headers['content-type'] = 'application/json; charset=utf-8';
    headers['content-length'] = String(Buffer.byteLength(body));
    answerLater(() => {
      res.writeHead(status, headers);
      res.end(body);
      recordRequest(ctx, reqId, req.method!, req.url!, route, status, performance.now() - started);
    });
  };
  const fail = (err: unknown) => {
    const e = err instanceof ApiError ? err : new ApiError('internal_error', 'The gateway failed to handle this request; it is logged with the request id.');
    if (e.status >= 500) ctx.logger.error({ reqId, err }, 'request failed');
    ctx.metrics.reject(e.code);
    Object.assign(headers, e.headers);
    // The body of a refused submit may not have been read: drain it so the connection can be reused.
    req.resume();
    send(e.status, e.toBody());
  };
  try {
    const key = admitKey(ctx, req.headers.authorization, (name, value) => (headers[name] = value));
    const run = (k: ApiKeyRecord) => handle(k, headers).then((payload) => send(200, payload), fail);
    if (key instanceof Promise) key.then(run, fail);
    else void run(key);
  } catch (e) {
    fail(e);
  }
}

/**
 * The body as JSON, read whole (its length is known and small). Like Fastify's parser in app.ts: an empty
 * body is undefined, anything else must be JSON.
 */
function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', reject);
    req.on('close', () => {
      if (!req.complete) reject(new ApiError('invalid_request_error', 'The request body ended early.', null));
    });
    req.on('end', () => {
      const text = chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') return resolve(undefined);
      try {
        resolve(JSON.parse(text));
      } catch {
        reject(new ApiError('invalid_request_error', 'The request body is not valid JSON.', null));
      }
    });
  });
}
