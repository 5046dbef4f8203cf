/**
 * The gateway's log output: pino's JSON lines on stdout through an asynchronous destination. Every line
 * must reach stdout whole and in order, multi-byte text included, also when the process exits right after
 * logging (the lines still buffered are flushed on exit).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

function runLogging(script: string): string[] {
  const code = `
    const { register } = await import('tsx/esm/api');
    register();
    const { createLogger } = await import(${JSON.stringify(path.join(ROOT, 'src/runtime/logger.ts'))});
    const logger = createLogger('info');
    ${script}
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8', timeout: 30_000, maxBuffer: 64 << 20 });
  expect(r.status, r.stderr).toBe(0);
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
