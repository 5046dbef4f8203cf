/**
 * The gateway's log output: pino's JSON lines on stdout through an asynchronous destination. Every line
 * must reach stdout whole and in order, multi-byte text included, also when the process exits right after
 * logging (the lines still buffered are flushed on exit).
 */
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger, logRequest } from '../../src/runtime/logger.ts';

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

describe('access lines', () => {
  /** A logger from createLogger writing into an array. */
  function capture(level = 'info') {
    const lines: string[] = [];
    const logger = createLogger(level, { write: (line: string) => void lines.push(line) });
    return { logger, lines };
  }
  const sameTime = (line: string) => line.replace(/"time":"[^"]*"/, '"time":"T"');

  it('are the very line pino writes for the same record', () => {
    const { logger, lines } = capture();
    const cases: [string, string, string, number, number][] = [
      ['req_01KAB0000000000000000000000', 'GET', '/v1/tasks/task_01KAB0000000000000000000000', 200, 3],
      ['client "id" \\ with\ttabs\u0001', 'POST', '/v1/videos/generations', 400, 0],
      ['é日本✓🎬', 'DELETE', '/v1/%E6%97%A5?', 404, 12345],
      ['x'.repeat(300), 'PATCH', '/' + 'a/'.repeat(200) + '"quoted"\n', 500, 1],
    ];
    for (const [reqId, method, url, status, ms] of cases) {
      logRequest(logger, reqId, method, url, status, ms);
      logger.info({ reqId, method, url, status, ms }, 'request');
      const [direct, viaPino] = lines.splice(0, 2);
      expect(sameTime(direct)).toBe(sameTime(viaPino));
      expect(JSON.parse(direct)).toMatchObject({ level: 'info', service: 'reelay', pid: process.pid, reqId, method, url, status, ms, msg: 'request' });
      expect(Date.parse(JSON.parse(direct).time)).toBeGreaterThan(Date.now() - 60_000);
    }
  });

  it('follow the logger’s level, and go through pino for a logger of another form', () => {
    const quiet = capture('warn');
    logRequest(quiet.logger, 'r', 'GET', '/', 200, 1);
    expect(quiet.lines).toEqual([]);
    quiet.logger.level = 'info';
    logRequest(quiet.logger, 'r', 'GET', '/', 200, 1);
    expect(quiet.lines).toHaveLength(1);

    const records: unknown[] = [];
    const other = { info: (obj: unknown, msg: string) => void records.push([obj, msg]) } as unknown as Parameters<typeof logRequest>[0];
    logRequest(other, 'r', 'GET', '/x', 201, 2);
    expect(records).toEqual([[{ reqId: 'r', method: 'GET', url: '/x', status: 201, ms: 2 }, 'request']]);
  });
});
