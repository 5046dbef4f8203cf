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
 *
 * Work is done in runs: polls and submit bodies noted as their requests are parsed are handled together at
 * the end of the loop turn, and all answers of the turn are written together (docs/decisions/0012-performance.md).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from '../errors.ts';
import type { ApiKeyRecord } from '../store/types.ts';
import type { AppContext } from './context.ts';
import { admitKey } from './auth.ts';
import { requestIdFor } from './requestId.ts';
import { recordRequest } from './accessLog.ts';
import { acceptSubmit, checkSubmit } from './routes/videos.ts';
import { pollTask, pollTaskNow } from './routes/tasks.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const SUBMIT_URL = '/v1/videos/generations';
const TASK_PREFIX = '/v1/tasks/';
const TASK_ROUTE = '/v1/tasks/:id';
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
      if (polls.length === 0) setImmediate(answerPolls);
      polls.push({ exchange: new Exchange(ctx, req, res, TASK_ROUTE), id });
      return;
    }
    if (req.method === 'POST' && url === SUBMIT_URL) {
      const type = req.headers['content-type'];
      const length = Number(req.headers['content-length']);
      if (!type || type.startsWith('multipart/') || req.headers['transfer-encoding'] !== undefined || !(length <= bodyLimit)) return fallback(req, res);
      return new Exchange(ctx, req, res, SUBMIT_URL).start(undefined);
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
let answers: Exchange[] = [];
function writeAnswers(): void {
  const batch = answers;
  answers = [];
  for (const exchange of batch) exchange.write();
}

/**
 * Submits whose bodies are read at the end of this loop turn, beside the answers. A small body arrives with
 * its headers, and node:http parses it right after it has handed the request over: by the check phase the
 * request is complete and its body lies in the stream's buffer, to be taken with one `read()` instead of
 * four listeners, a 'data' event and an 'end' event a tick later (docs/decisions/0012-performance.md).
 * A body still arriving by then is read with listeners as it comes.
 */
let bodies: { exchange: Exchange; key: ApiKeyRecord }[] = [];
function readBodies(): void {
  const batch = bodies;
  bodies = [];
  for (const { exchange, key } of batch) exchange.takeBody(key);
  // Refusals of this batch go out now, with the answers already waiting, not a loop turn later.
  if (answers.length > 0) writeAnswers();
}

/**
 * Polls answered at the end of the loop turn, together: with a store that reads synchronously each is read,
 * answered and written in one pass, beside the other answers of the turn — and, where the store offers it,
 * read in one read transaction (`Store.readTogether`). (Requests of another app in the same process, as in
 * tests, are answered the same way, their reads outside that transaction.)
 */
let polls: { exchange: Exchange; id: string }[] = [];
function answerPolls(): void {
  const batch = polls;
  polls = [];
  const store = batch[0].exchange.ctx.store;
  if (batch.length > 1 && store.readTogether) store.readTogether(() => startPolls(batch));
  else startPolls(batch);
  if (answers.length > 0) writeAnswers();
}

function startPolls(batch: { exchange: Exchange; id: string }[]): void {
  for (const { exchange, id } of batch) exchange.start(id);
}

function endedEarly(): ApiError {
  return ApiError.refusal('invalid_request_error', 'The request body ended early.', null);
}

/**
 * One request on the fast path, from authentication to its access line. A class rather than closures:
 * the hot path then allocates one object per request and no functions (under tsx, every named closure
 * also costs a property definition for its name).
 */
class Exchange {
  private readonly started = performance.now();
  private readonly reqId: string;
  private readonly headers: Record<string, string>;
  private status = 0;
  private body = '';
  /** The request body as it arrives (submit only). */
  private chunks: Buffer[] = [];
  private bodyDone = false;

  constructor(
    readonly ctx: AppContext,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly route: string,
  ) {
    this.reqId = requestIdFor(req.headers['x-request-id']);
    this.headers = { 'x-request-id': this.reqId };
  }

  /** Authenticates, then polls task `taskId` or, without one, reads and submits the body. */
  start(taskId: string | undefined): void {
    let key: ApiKeyRecord | Promise<ApiKeyRecord>;
    try {
      key = admitKey(this.ctx, this.req.headers.authorization, (name, value) => (this.headers[name] = value));
    } catch (e) {
      return this.fail(e);
    }
    if (key instanceof Promise) key.then((k) => this.admitted(k, taskId), (e: unknown) => this.fail(e));
    else this.admitted(key, taskId);
  }

  private admitted(key: ApiKeyRecord, taskId: string | undefined): void {
    if (taskId !== undefined) {
      let now: unknown;
      try {
        now = pollTaskNow(this.ctx, key, taskId);
      } catch (e) {
        return this.fail(e);
      }
      if (now !== undefined) return this.send(200, now);
      pollTask(this.ctx, key, taskId).then((payload) => this.send(200, payload), (e: unknown) => this.fail(e));
      return;
    }
    this.readBody(key);
  }

  /**
   * The body, read whole (its length is known and small), then submitted. Like Fastify's parser in
   * app.ts: an empty body is undefined, anything else must be JSON.
   */
  private readBody(key: ApiKeyRecord): void {
    if (bodies.length === 0) setImmediate(readBodies);
    bodies.push({ exchange: this, key });
  }

  /** At the end of the loop turn: the whole body from the stream's buffer if it has arrived, else as it comes. */
  takeBody(key: ApiKeyRecord): void {
    const req = this.req;
    if (req.complete) {
      const body = req.read() as Buffer | null;
      if (body !== null) this.chunks.push(body);
      return this.submit(key);
    }
    // A client that left before the end of this turn: its 'close' has been emitted already.
    if (req.destroyed) return this.bodyFailed(endedEarly());
    this.listen(key);
  }

  private listen(key: ApiKeyRecord): void {
    const req = this.req;
    req.on('data', (c: Buffer) => this.chunks.push(c));
    // The only error a request stream has is its client leaving ('aborted'): the client's doing, not a
    // failure of the gateway to log as one.
    req.on('error', () => this.bodyFailed(endedEarly()));
    req.on('close', () => {
      if (!req.complete) this.bodyFailed(endedEarly());
    });
    req.on('end', () => this.submit(key));
  }

  private bodyFailed(e: unknown): void {
    if (this.bodyDone) return;
    this.bodyDone = true;
    this.fail(e);
  }

  private submit(key: ApiKeyRecord): void {
    if (this.bodyDone) return;
    this.bodyDone = true;
    const chunks = this.chunks;
    const text = chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks).toString('utf8');
    this.chunks = [];
    let body: unknown;
    if (text.trim() !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        return this.fail(ApiError.refusal('invalid_request_error', 'The request body is not valid JSON.', null));
      }
    }
    // A refused body is answered at once, without a promise or a throw: refusals are most of what a busy
    // gateway sees.
    let checked;
    try {
      checked = checkSubmit(this.ctx, body, this.req.headers);
    } catch (e) {
      return this.fail(e);
    }
    if (checked instanceof ApiError) return this.fail(checked);
    acceptSubmit(this.ctx, key, checked).then(
      (r) => {
        if (r.replayed) this.headers['Idempotency-Replayed'] = 'true';
        this.send(200, r.payload);
      },
      (e: unknown) => this.fail(e),
    );
  }

  private fail(err: unknown): void {
    const e = err instanceof ApiError ? err : new ApiError('internal_error', 'The gateway failed to handle this request; it is logged with the request id.');
    if (e.status >= 500) this.ctx.logger.error({ reqId: this.reqId, err }, 'request failed');
    this.ctx.metrics.reject(e.code);
    Object.assign(this.headers, e.headers);
    // The body of a refused submit may not have been read: drain it so the connection can be reused.
    // (A body already read to its end needs nothing: resuming it only queued a tick per refusal.)
    const req = this.req;
    if (!req.readableEnded && !(req.complete && req.readableLength === 0)) req.resume();
    this.send(e.status, e.toBody());
  }

  private send(status: number, payload: unknown): void {
    this.status = status;
    this.body = JSON.stringify(payload);
    this.headers['content-type'] = 'application/json; charset=utf-8';
    this.headers['content-length'] = String(Buffer.byteLength(this.body));
    // Also inside readBodies and answerPolls, which write the turn's answers themselves: the immediate then
    // finds nothing to write, but it makes the next turn poll for I/O without sleeping, and picks up the
    // clients' next requests before the loop waits for a wake-up. Not scheduling it there cost 52 → 75 µs
    // per poll and 43 → 62 µs per refused body (docs/decisions/0012-performance.md, item 47).
    if (answers.length === 0) setImmediate(writeAnswers);
    answers.push(this);
  }

  write(): void {
    this.res.writeHead(this.status, this.headers);
    this.res.end(this.body);
    recordRequest(this.ctx, this.reqId, this.req.method!, this.req.url!, this.route, this.status, performance.now() - this.started);
  }
}
