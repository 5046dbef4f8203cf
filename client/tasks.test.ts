import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError, Reelay, WaitTimeoutError, type Task } from './index.ts';
import { FakeReelay } from './testing/fakeReelay.ts';

let server: FakeReelay;
let client: Reelay;

beforeEach(async () => {
  server = await new FakeReelay().start();
  client = new Reelay({ baseUrl: server.url, apiKey: server.apiKey });
});
afterEach(() => server.close());

describe('tasks.get', () => {
  it('unwraps the envelope', async () => {
    const { taskId } = await client.videos.create({ model: 'wan2.5-preview', prompt: 'a coastal road' });
    const task = await client.tasks.get(taskId);
    expect(task).toMatchObject({ id: taskId, status: 'pending', progress: 0, estimated_time: 120, cost: 0 });
  });

  it('maps an unknown id to NotFoundError', async () => {
    const err = await client.tasks.get('task_nope').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err).toMatchObject({ status: 404, code: 'not_found' });
  });
});

describe('tasks.list', () => {
  beforeEach(() => {
    for (let i = 0; i < 7; i++) server.addTask({ model: i % 2 ? 'viduq3' : 'wan2.5-preview', status: i < 5 ? 'completed' : 'pending' });
  });

  it('iterates every task across 3 pages, newest first, passing the cursor along', async () => {
    const ids: string[] = [];
    for await (const task of client.tasks.list({ limit: 3 })) ids.push(task.id);
    expect(ids).toEqual(['task_0007', 'task_0006', 'task_0005', 'task_0004', 'task_0003', 'task_0002', 'task_0001']);
    const pages = server.requestsTo('GET', '/v1/tasks');
    expect(pages).toHaveLength(3);
    expect(pages[0]!.query.get('cursor')).toBeNull();
    expect(pages[1]!.query.get('cursor')).not.toBeNull();
    expect(pages.every((p) => p.query.get('limit') === '3')).toBe(true);
  });

  it('gives the first page on await, with explicit next-page access', async () => {
    const first = await client.tasks.list({ limit: 3 });
    expect(first.data.map((t) => t.id)).toEqual(['task_0007', 'task_0006', 'task_0005']);
    expect(first.hasNextPage()).toBe(true);
    const pages: Task[][] = [];
    for await (const page of first.iterPages()) pages.push(page.data);
    expect(pages.map((p) => p.length)).toEqual([3, 3, 1]);
    expect(server.requestsTo('GET', '/v1/tasks')).toHaveLength(3);
  });

  it('sends status and model filters', async () => {
    const ids: string[] = [];
    for await (const task of client.tasks.list({ status: 'completed', model: 'viduq3' })) ids.push(task.id);
    expect(ids).toEqual(['task_0004', 'task_0002']);
    const [req] = server.requestsTo('GET', '/v1/tasks');
    expect(req!.query.get('status')).toBe('completed');
    expect(req!.query.get('model')).toBe('viduq3');
  });
});

describe('tasks.cancel', () => {
  it('cancels an unfinished task and refuses a finished one with ConflictError', async () => {
    const { taskId } = await client.videos.create({ model: 'wan2.5-preview', prompt: 'rain' });
    const cancelled = await client.tasks.cancel(taskId);
    expect(cancelled).toMatchObject({ id: taskId, status: 'cancelled', cost: 0 });
    const err = await client.tasks.cancel(taskId).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect(err).toMatchObject({ code: 'task_not_cancellable' });
    expect(server.requestsTo('POST', `/v1/tasks/${taskId}/cancel`)).toHaveLength(2);
  });

  it('counts cancelled as finished when waiting', async () => {
    const { taskId } = await client.videos.create({ model: 'wan2.5-preview', prompt: 'rain' });
    await client.tasks.cancel(taskId);
    const task = await client.tasks.waitFor(taskId, { pollIntervalMs: 1 });
    expect(task.status).toBe('cancelled');
    expect(server.requestsTo('GET', `/v1/tasks/${taskId}`)).toHaveLength(1);
  });
});

describe('tasks.waitFor', () => {
  it('throws WaitTimeoutError with the last status at the deadline', async () => {
    const { taskId } = await client.videos.create({ model: 'wan2.5-preview', prompt: 'slow' });
    const err = await client.tasks.waitFor(taskId, { pollIntervalMs: 100, timeoutMs: 150 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WaitTimeoutError);
    expect(err).toMatchObject({ taskId, lastStatus: 'processing' });
  });

  it('stops when the signal aborts', async () => {
    const { taskId } = await client.videos.create({ model: 'wan2.5-preview', prompt: 'slow' });
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(new Error('user gave up')), 50);
    const err = await client.tasks.waitFor(taskId, { pollIntervalMs: 10_000, signal: ctl.signal }).catch((e: unknown) => e);
    expect((err as Error).message).toBe('user gave up');
    expect(server.requestsTo('GET', `/v1/tasks/${taskId}`)).toHaveLength(1);
  });
});
