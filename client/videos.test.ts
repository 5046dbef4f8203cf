import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BadRequestError, ConflictError, PaymentRequiredError, RateLimitError, Reelay, type Task } from './index.ts';
import { FakeReelay, errorAnswer } from './testing/fakeReelay.ts';

let server: FakeReelay;
let client: Reelay;

beforeEach(async () => {
  server = await new FakeReelay().start();
  client = new Reelay({ baseUrl: server.url, apiKey: server.apiKey });
});
afterEach(() => server.close());

const BODY = { model: 'veo3.1-fast-official', prompt: 'a golden retriever on the beach', duration: 8 } as const;

describe('videos.create', () => {
  it('posts the body with a fresh Idempotency-Key and returns the task id', async () => {
    const first = await client.videos.create(BODY);
    const second = await client.videos.create(BODY);
    expect(first).toEqual({ taskId: 'task_0001', replayed: false });
    expect(second.taskId).toBe('task_0002');
    const [a, b] = server.requestsTo('POST', '/v1/videos/generations');
    expect(JSON.parse(a!.body.toString())).toEqual(BODY);
    expect(a!.headers['content-type']).toBe('application/json');
    expect(a!.headers['idempotency-key']).toMatch(/^[0-9a-f-]{36}$/);
    expect(b!.headers['idempotency-key']).not.toBe(a!.headers['idempotency-key']);
  });

  it('reports a replay when the same key is sent again', async () => {
    const first = await client.videos.create(BODY, { idempotencyKey: 'k-1' });
    const again = await client.videos.create(BODY, { idempotencyKey: 'k-1' });
    expect(again).toEqual({ taskId: first.taskId, replayed: true });
    expect(server.tasks.size).toBe(1);
  });

  it('keeps the same Idempotency-Key across retries, so a lost answer never makes two tasks', async () => {
    // The first attempt is processed but its answer is replaced by a 500, as if lost on the way back.
    server.script('POST', '/v1/videos/generations', { ...errorAnswer(500, 'internal_error', 'api_error', 'boom'), afterHandling: true });
    const result = await client.videos.create(BODY);
    const seen = server.requestsTo('POST', '/v1/videos/generations');
    expect(seen).toHaveLength(2);
    expect(seen[1]!.headers['idempotency-key']).toBe(seen[0]!.headers['idempotency-key']);
    expect(result).toEqual({ taskId: 'task_0001', replayed: true });
    expect(server.tasks.size).toBe(1);
  });

  it('waits for Retry-After on 429 and then succeeds', async () => {
    server.script('POST', '/v1/videos/generations', {
      ...errorAnswer(429, 'rate_limit_error', 'rate_limit_error', 'slow down'),
      headers: { 'Retry-After': '1' },
    });
    const started = Date.now();
    const result = await client.videos.create(BODY);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(result.taskId).toBe('task_0001');
    const seen = server.requestsTo('POST', '/v1/videos/generations');
    expect(seen[1]!.headers['idempotency-key']).toBe(seen[0]!.headers['idempotency-key']);
  });

  it('throws RateLimitError once retries are used up', async () => {
    const limited = { ...errorAnswer(429, 'rate_limit_error', 'rate_limit_error', 'slow down'), headers: { 'retry-after-ms': '5' } };
    server.script('POST', '/v1/videos/generations', limited, limited, limited);
    const err = await client.videos.create(BODY).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitError);
    expect(err).toMatchObject({ status: 429, code: 'rate_limit_error' });
    expect(server.requestsTo('POST', '/v1/videos/generations')).toHaveLength(3);
  });

  it('maps 402 to PaymentRequiredError without retrying', async () => {
    server.script('POST', '/v1/videos/generations', errorAnswer(402, 'payment_required', 'payment_required', 'balance 0.10 is below the price 0.40'));
    const err = await client.videos.create(BODY).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PaymentRequiredError);
    expect(err).toMatchObject({ status: 402, code: 'payment_required', type: 'payment_required', requestId: 'req_1' });
    expect(server.requestsTo('POST', '/v1/videos/generations')).toHaveLength(1);
  });

  it('maps 400 to BadRequestError with code and param', async () => {
    server.script('POST', '/v1/videos/generations', errorAnswer(400, 'invalid_duration', 'invalid_duration', 'duration 7 is not one of 4, 6, 8', 'duration'));
    const err = await client.videos.create(BODY).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect(err).toMatchObject({ code: 'invalid_duration', param: 'duration', message: 'duration 7 is not one of 4, 6, 8' });
  });

  it('does not retry a 409 (a reused key with another body)', async () => {
    await client.videos.create(BODY, { idempotencyKey: 'k-2' });
    const err = await client.videos.create({ ...BODY, prompt: 'something else' }, { idempotencyKey: 'k-2' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect(err).toMatchObject({ code: 'idempotency_key_reused' });
    expect(server.requestsTo('POST', '/v1/videos/generations')).toHaveLength(2);
  });
});

describe('videos.createAndWait', () => {
  it('polls through pending and rising progress to completed', async () => {
    const seen: Task[] = [];
    const task = await client.videos.createAndWait(BODY, { pollIntervalMs: 5, onProgress: (t) => seen.push(t) });
    expect(task.status).toBe('completed');
    expect(task.result?.videos[0]?.url[0]).toMatch(/\/files\/task_0001-1\.mp4/);
    expect(seen.map((t) => t.status)).toEqual(['pending', 'processing', 'processing', 'processing', 'completed']);
    expect(seen.map((t) => t.progress)).toEqual([0, 30, 60, 90, 100]);
  });

  it('returns a failed task with its error instead of throwing', async () => {
    const task = await client.videos.createAndWait({ ...BODY, prompt: 'sim:fail please' }, { pollIntervalMs: 1 });
    expect(task.status).toBe('failed');
    expect(task.cost).toBe(0);
    expect(task.error?.code).toBe('upstream_error');
  });
});
