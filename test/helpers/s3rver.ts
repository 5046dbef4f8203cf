/**
 * An S3 endpoint for tests: s3rver on a random loopback port, in a temp directory, with one bucket.
 *
 * It runs in a child process: the storage contract measures the test process's heap while streaming 64 MB,
 * and an in-process s3rver's own receive buffers would count against reelay's S3 client. See s3rverChild.ts
 * for the S3 behaviours it adds to s3rver.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { S3Settings } from '../../src/media/storage/s3.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface TestS3 {
  endpoint: string;
  bucket: string;
  /** The s3 config section for this endpoint; `overrides` replace its defaults. */
  settings(overrides?: Partial<S3Settings>): S3Settings;
  close(): Promise<void>;
}

export async function startS3rver(bucket = 'reelay-test'): Promise<TestS3> {
  const directory = await mkdtemp(path.join(tmpdir(), 'reelay-s3rver-'));
  // s3rver encrypts ListObjectsV2 continuation tokens with DES, which OpenSSL 3 only has in its legacy provider.
  const child = spawn(process.execPath, ['--openssl-legacy-provider', '--import', 'tsx', path.join(ROOT, 'test/helpers/s3rverChild.ts'), directory, bucket], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve((JSON.parse(line) as { port: number }).port);
    });
    child.once('exit', (code) => reject(new Error(`s3rver exited with ${code} before listening`)));
  });
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    bucket,
    settings: (overrides = {}) => ({
      endpoint,
      bucket,
      region: 'us-east-1',
      access_key_id: 'S3RVER', // s3rver's built-in account
      secret_access_key: 'S3RVER',
      force_path_style: true,
      presign: false,
      prefix: '',
      ...overrides,
    }),
    async close() {
      child.disconnect();
      await exited;
      await rm(directory, { recursive: true, force: true });
    },
  };
}
