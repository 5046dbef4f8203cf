/**
 * The gateway's log output: pino's JSON lines on stdout through an asynchronous destination. Every line
 * must reach stdout whole and in order, multi-byte text included, also when the process exits right after
 * logging (the lines still buffered are flushed on exit).
 */
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

function childCode(script: string): string {
  return `
    const { register } = await import('tsx/esm/api');
    register();
    const { createLogger } = await import(${JSON.stringify(path.join(ROOT, 'src/runtime/logger.ts'))});
    const logger = createLogger('info');
    ${script}
  `;
}

function runLogging(script: string, expectedStatus = 0): string[] {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', childCode(script)], { cwd: ROOT, encoding: 'utf8', timeout: 30_000, maxBuffer: 64 << 20 });
  expect(r.status, r.stderr).toBe(expectedStatus);
  return r.stdout.split('\n').filter((l) => l !== '');
}

describe('logger', () => {
  it('writes a burst of lines whole and in order, multi-byte text included, and flushes them on process.exit', () => {
    const lines = runLogging(`
      for (let i = 0; i < 5000; i++) logger.info({ i, text: 'prompt ✓ 日本語 ' + 'x'.repeat(i % 300) }, 'request');
      setImmediate(() => {
        for (let i = 5000; i < 5100; i++) logger.info({ i, text: 'é' }, 'request');
        process.exit(0);
      });
    `);
    expect(lines).toHaveLength(5100);
    lines.forEach((line, i) => {
      const rec = JSON.parse(line);
      expect(rec).toMatchObject({ level: 'info', service: 'reelay', i, msg: 'request' });
      expect(rec.text).toBe(i < 5000 ? 'prompt ✓ 日本語 ' + 'x'.repeat(i % 300) : 'é');
    });
  });

  it('writes out the lines still buffered when the process dies of an uncaught exception', () => {
    const lines = runLogging(`
      logger.info({ n: 1 }, 'before the crash');
      logger.info({ n: 2 }, 'just before the crash');
      setImmediate(() => { throw new Error('crash'); });
    `, 1);
    expect(lines.map((l) => JSON.parse(l).n)).toEqual([1, 2]);
  });

  it('writes a line of a quiet process within a fraction of a second, while the process runs on', async () => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', childCode(`
      logger.info({ n: 1 }, 'alone');
      setTimeout(() => undefined, 5000);
    `)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString('utf8');
          if (out.includes('\n')) resolve(out);
        });
        child.on('exit', (code) => reject(new Error(`exited (${code}) before writing the line`)));
        setTimeout(() => reject(new Error('no line within 3 s')), 3000);
      });
      expect(JSON.parse(line)).toMatchObject({ n: 1, msg: 'alone' });
      expect(child.exitCode).toBeNull(); // written while it runs, not at its exit
    } finally {
      child.kill();
    }
  });

  it('drops lines below its level and keeps an error with its stack', () => {
    const lines = runLogging(`
      const quiet = createLogger('warn');
      quiet.info('not written');
      quiet.error(new Error('boom'), 'failed');
    `);
    expect(lines).toHaveLength(1);
    const rec = JSON.parse(lines[0]);
    expect(rec).toMatchObject({ level: 'error', msg: 'failed', err: { type: 'Error', message: 'boom' } });
    expect(rec.err.stack).toContain('Error: boom');
  });
});
