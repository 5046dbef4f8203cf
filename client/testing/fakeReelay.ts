/**
 * A small reelay on loopback for the SDK and CLI tests: it follows CONTRACT.md's wire shapes (envelope,
 * error bodies, Idempotency-Key replay, cursor pages, multipart uploads, x-request-id) with a task
 * lifecycle that advances one step per GET, so tests are deterministic and need no clock.
 *
 * Faults are scripted per route with `script()`: each scripted answer is used once, in order, before
 * normal handling resumes. `afterHandling` answers are sent *after* the request was processed, to model
 * an answer lost on the way back (the case idempotency keys exist for).
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MODEL_IDS } from '../models.generated.ts';
import type { Task } from '../types.ts';

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface ScriptedAnswer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Process the request normally, then send this answer instead of the real one. */
  afterHandling?: boolean;
}

export interface FakeTask extends Task {
  model: string;
  /** GETs left before each next step; the lifecycle is driven by polling. */
  step: number;
  body: Record<string, unknown>;
}

export interface FakeReelayOptions {
  apiKey?: string;
  /** Progress values reported while processing, one per GET after the first (pending) one. */
  progressSteps?: number[];
  /** Answer uploads in the {code, data} envelope instead of bare. */
  wrapUploads?: boolean;
  /** Bytes of each served video. */
  videoBytes?: number;
}

export class FakeReelay {
  readonly apiKey: string;
  readonly requests: RecordedRequest[] = [];
  readonly tasks = new Map<string, FakeTask>();
  readonly uploads: { filename: string; contentType: string; bytes: Buffer }[] = [];
  url = '';
  readonly #opts: Required<Omit<FakeReelayOptions, 'apiKey'>>;
  readonly #server: Server;
  readonly #scripts = new Map<string, ScriptedAnswer[]>();
  readonly #idempotency = new Map<string, { body: string; taskId: string }>();
  readonly #files = new Map<string, Buffer>();
  #hold: Promise<void> | undefined;
  #seq = 0;

  constructor(opts: FakeReelayOptions = {}) {
    this.apiKey = opts.apiKey ?? 'sk-test';
    this.#opts = { progressSteps: opts.progressSteps ?? [30, 60, 90], wrapUploads: opts.wrapUploads ?? false, videoBytes: opts.videoBytes ?? 2048 };
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) this.#json(res, 500, { error: { code: 'internal_error', type: 'api_error', message: String(err) } });
        else res.destroy();
      });
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** Queues answers for `METHOD /path` (exact path, no query). */
  script(method: string, path: string, ...answers: ScriptedAnswer[]): void {
    const key = `${method} ${path}`;
    this.#scripts.set(key, [...(this.#scripts.get(key) ?? []), ...answers]);
  }

  /** Video files sent after this call stop halfway until the returned function is called. */
  holdFiles(): () => void {
    let release!: () => void;
    this.#hold = new Promise((resolve) => (release = resolve));
    return () => {
      this.#hold = undefined;
      release();
    };
  }

  /** Adds a task directly (for list tests); newest is the last added. */
  addTask(init: Partial<FakeTask> & { model: string }): FakeTask {
    const task = this.#newTask(init.model, init.body ?? { model: init.model, prompt: 'seeded' });
    Object.assign(task, init);
    return task;
  }

  requestsTo(method: string, path: string): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && r.path === path);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', this.url);
    const rec: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, body: Buffer.concat(chunks) };
    this.requests.push(rec);
    res.setHeader('x-request-id', `req_${++this.#seq}`);

    if (rec.path.startsWith('/files/')) return this.#serveFile(rec.path.slice('/files/'.length), res);
    if (req.headers.authorization !== `Bearer ${this.apiKey}`) {
      return this.#error(res, 401, 'authentication_error', 'authentication_error', 'missing or unknown API key');
    }
    const scripted = this.#scripts.get(`${rec.method} ${rec.path}`)?.shift();
    if (scripted && !scripted.afterHandling) return this.#answer(res, scripted);
    const real = await this.#route(rec);
    this.#answer(res, scripted ?? real);
  }

  #answer(res: ServerResponse, a: ScriptedAnswer): void {
    for (const [k, v] of Object.entries(a.headers ?? {})) res.setHeader(k, v);
    if (a.body === undefined) {
      res.writeHead(a.status).end();
      return;
    }
    this.#json(res, a.status, a.body);
  }

  async #route(rec: RecordedRequest): Promise<ScriptedAnswer> {
    const { method, path } = rec;
    if (method === 'POST' && path === '/v1/videos/generations') return this.#create(rec);
    if (method === 'GET' && path === '/v1/tasks') return this.#list(rec.query);
    if (method === 'POST' && path === '/v1/uploads/images') return this.#upload(rec);
    if (method === 'GET' && path === '/v1/balance') return ok({ remain_balance: 12.5, used_balance: 0.4, held_balance: 0 });
    if (method === 'GET' && path === '/v1/models') return ok(MODEL_IDS.map((id) => ({ id, object: 'model' })));
    if (method === 'GET' && path === '/v1/model-schema') {
      const model = rec.query.get('model') ?? '';
      if (!(MODEL_IDS as readonly string[]).includes(model)) return errorAnswer(400, 'invalid_request_error', 'invalid_request_error', `model ${model} is not served`, 'model');
      return ok({ $schema: 'https://json-schema.org/draft/2020-12/schema', title: model, type: 'object' });
    }
    const m = /^\/v1\/tasks\/([^/]+)(\/cancel)?$/.exec(path);
    if (m) {
      const task = this.tasks.get(decodeURIComponent(m[1]!));
      if (!task) return errorAnswer(404, 'not_found', 'not_found', `no task ${m[1]}`);
      if (method === 'GET' && !m[2]) return ok(publicTask(this.#advance(task)));
      if (method === 'POST' && m[2]) return this.#cancel(task);
    }
    return errorAnswer(404, 'route_not_found', 'not_found', `no route ${method} ${path}`);
  }

  #create(rec: RecordedRequest): ScriptedAnswer {
    const text = rec.body.toString('utf8');
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return errorAnswer(400, 'invalid_request_error', 'invalid_request_error', 'body is not JSON');
    }
    if (typeof body.model !== 'string') return errorAnswer(400, 'invalid_request_error', 'invalid_request_error', 'model is required', 'model');
    const key = rec.headers['idempotency-key'];
    if (typeof key === 'string') {
      const seen = this.#idempotency.get(key);
      if (seen && seen.body !== text) return errorAnswer(409, 'idempotency_key_reused', 'conflict', 'Idempotency-Key reused with another body');
      if (seen) return { ...ok([{ status: 'submitted', task_id: seen.taskId }]), headers: { 'Idempotency-Replayed': 'true' } };
    }
    const task = this.#newTask(body.model, body);
    if (typeof key === 'string') this.#idempotency.set(key, { body: text, taskId: task.id });
    return ok([{ status: 'submitted', task_id: task.id }]);
  }

  #newTask(model: string, body: Record<string, unknown>): FakeTask {
    const id = `task_${String(this.tasks.size + 1).padStart(4, '0')}`;
    const task: FakeTask = {
      id,
      model,
      status: 'pending',
      progress: 0,
      created: Math.floor(Date.now() / 1000),
      estimated_time: 120,
      cost: 0,
      step: 0,
      body,
    };
    this.tasks.set(id, task);
    return task;
  }

  /** pending → processing (each progress step) → completed, or failed when the prompt says sim:fail. */
  #advance(task: FakeTask): FakeTask {
    if (task.status === 'completed' || task.status === 'failed' || task.status === 'cancelled') return task;
    const steps = this.#opts.progressSteps;
    task.step += 1;
    if (task.step === 1) return task; // the first read still sees pending
    if (task.step - 2 < steps.length) {
      task.status = 'processing';
      task.progress = Math.max(task.progress, steps[task.step - 2]!);
      return task;
    }
    const now = Math.floor(Date.now() / 1000);
    task.completed = now;
    task.actual_time = now - task.created;
    task.progress = 100;
    if (String(task.body.prompt ?? '').includes('sim:fail')) {
      task.status = 'failed';
      task.error = { code: 'upstream_error', message: 'the upstream refused the job: content moderation flagged the prompt' };
      return task;
    }
    const count = typeof task.body.sample_count === 'number' ? task.body.sample_count : 1;
    const videos = Array.from({ length: count }, (_, i) => {
      const name = `${task.id}-${i + 1}.mp4`;
      this.#files.set(name, fakeMp4(`${task.id}#${i + 1}`, this.#opts.videoBytes));
      return { url: [`${this.url}/files/${name}?sig=fake`], expires_at: now + 86_400 };
    });
    task.status = 'completed';
    task.cost = 0.4 * count;
    task.result = { videos };
    return task;
  }

  #cancel(task: FakeTask): ScriptedAnswer {
    if (task.status === 'completed' || task.status === 'failed' || task.status === 'cancelled') {
      return errorAnswer(409, 'task_not_cancellable', 'conflict', `task ${task.id} is already ${task.status}`);
    }
    task.status = 'cancelled';
    task.cost = 0;
    task.completed = Math.floor(Date.now() / 1000);
    return ok(publicTask(task));
  }

  #list(query: URLSearchParams): ScriptedAnswer {
    const limit = Number(query.get('limit') ?? 20);
    const cursor = query.get('cursor');
    let offset = 0;
    if (cursor !== null) {
      const m = /^o:(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString());
      if (!m) return errorAnswer(400, 'invalid_cursor', 'invalid_request_error', 'the paging cursor is malformed', 'cursor');
      offset = Number(m[1]);
    }
    const all = [...this.tasks.values()]
      .reverse()
      .filter((t) => !query.get('status') || t.status === query.get('status'))
      .filter((t) => !query.get('model') || t.model === query.get('model'));
    const page = all.slice(offset, offset + limit);
    const next = offset + limit < all.length ? Buffer.from(`o:${offset + limit}`).toString('base64url') : null;
    return { status: 200, body: { code: 200, data: page.map(publicTask), next_cursor: next } };
  }

  async #upload(rec: RecordedRequest): Promise<ScriptedAnswer> {
    const request = new Request('http://fake/upload', {
      method: 'POST',
      headers: { 'content-type': String(rec.headers['content-type'] ?? '') },
      body: rec.body,
    });
    const form = await request.formData().catch(() => undefined);
    const file = form?.get('file');
    if (!file || typeof file === 'string') return errorAnswer(400, 'invalid_upload', 'invalid_request_error', 'multipart field "file" is missing', 'file');
    const bytes = Buffer.from(await file.arrayBuffer());
    this.uploads.push({ filename: file.name, contentType: file.type, bytes });
    const name = `up_${this.uploads.length}-${file.name}`;
    this.#files.set(name, bytes);
    const answer = { url: `${this.url}/files/${name}`, filename: file.name, content_type: file.type, bytes: bytes.length, created_at: Math.floor(Date.now() / 1000) };
    return this.#opts.wrapUploads ? ok(answer) : { status: 200, body: answer };
  }

  async #serveFile(name: string, res: ServerResponse): Promise<void> {
    const bytes = this.#files.get(decodeURIComponent(name));
    if (!bytes) return this.#error(res, 404, 'not_found', 'not_found', 'no such file');
    res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': bytes.length });
    const hold = this.#hold;
    if (!hold) return void res.end(bytes);
    const half = Math.floor(bytes.length / 2);
    res.write(bytes.subarray(0, half));
    await hold;
    res.end(bytes.subarray(half));
  }

  #error(res: ServerResponse, status: number, code: string, type: string, message: string): void {
    this.#answer(res, errorAnswer(status, code, type, message));
  }

  #json(res: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
  }
}

function ok(data: unknown): ScriptedAnswer {
  return { status: 200, body: { code: 200, data } };
}

export function errorAnswer(status: number, code: string, type: string, message: string, param?: string): ScriptedAnswer {
  return { status, body: { error: { code, type, message, param: param ?? null } } };
}

function publicTask(task: FakeTask): Task {
  const { step: _step, body: _body, ...rest } = task;
  return structuredClone(rest);
}

/** An `ftyp` box and an `mdat` box: enough for a file to look like an MP4, with a label to tell them apart. */
export function fakeMp4(label: string, size: number): Buffer {
  const box = (type: string, payload: Buffer) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(payload.length + 8, 0);
    head.write(type, 4, 'latin1');
    return Buffer.concat([head, payload]);
  };
  const ftyp = box('ftyp', Buffer.from('isom\0\0\x02\0isomiso2mp41', 'latin1'));
  const fill = Buffer.alloc(Math.max(0, size - ftyp.length - 8), 0);
  Buffer.from(label).copy(fill);
  return Buffer.concat([ftyp, box('mdat', fill)]);
}
