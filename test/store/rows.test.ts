import { describe, expect, it } from 'vitest';
import { newTaskRecord, taskColumns, taskValues, TASK_COLUMN_NAMES, toTask } from '../../src/store/rows.ts';
import type { NewTask, TaskRecord } from '../../src/tasks/task.ts';

const NEW_TASK: NewTask = {
  id: 'task_01JZ0000000000000000000000',
  keyId: 'key_1',
  model: 'viduq3',
  mode: 'T2V',
  params: { prompt: 'a heron at dawn', duration: 5 },
  inputs: [{ field: 'image_url', index: null, key: 'inputs/2026-11-21/t/image_url.png', contentType: 'image/png', bytes: 10 }],
  plan: { seconds: 5, count: 1, width: 1280, height: 720 } as unknown as TaskRecord['plan'],
  createdAt: 1_700_000_000_123,
  estimatedSeconds: 60,
  deadlineAt: 1_700_000_600_123,
  priceMicros: 250_000,
  billedSeconds: 5,
  callbackUrl: 'https://example.com/hook',
  idempotencyKey: 'idem-1',
  nextCheckAt: 1_700_000_000_123,
};

describe('task rows', () => {
  it('a new task record carries every field it was given, unchanged, and starts queued', () => {
    const record = newTaskRecord(NEW_TASK);
    // Written out field by field (a spread was slow): a field added to NewTask must not be dropped here.
    for (const [name, value] of Object.entries(NEW_TASK)) expect(record[name as keyof TaskRecord], name).toBe(value);
    expect(record).toMatchObject({ status: 'pending', phase: 'queued', progress: 0, updatedAt: NEW_TASK.createdAt, attempts: 0, failedChannels: [] });
  });

  it('column values follow TASK_COLUMN_NAMES and read back as the same task', () => {
    const record = newTaskRecord(NEW_TASK);
    const values = taskValues(record);
    expect(values).toHaveLength(TASK_COLUMN_NAMES.length);
    const columns = taskColumns(record);
    expect(Object.keys(columns)).toEqual([...TASK_COLUMN_NAMES]);
    expect(TASK_COLUMN_NAMES.map((n) => columns[n])).toEqual(values);
    expect(toTask(columns)).toEqual(record);
  });

  it('a finished task keeps its result, error and upstream through its columns', () => {
    const record: TaskRecord = {
      ...newTaskRecord(NEW_TASK),
      status: 'completed',
      phase: 'done',
      progress: 100,
      completedAt: NEW_TASK.createdAt + 5000,
      upstream: { channel: 'sim', id: 'up-1' } as unknown as TaskRecord['upstream'],
      failedChannels: ['other'],
      facts: { width: 1280, height: 720 },
      error: { code: 'x', message: 'y' } as TaskRecord['error'],
      result: { expiresAt: 1_700_100_000, videos: [] } as unknown as TaskRecord['result'],
      leaseOwner: 'w1',
      leaseUntil: 5,
    };
    const columns = taskColumns(record);
    expect(columns.result_expires_at).toBe(1_700_100_000);
    expect(toTask(columns)).toEqual(record);
  });
});
