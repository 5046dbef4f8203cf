/**
 * The README's "Try it" walk-through, as a user would run it: `reelay serve` on a fresh data dir (which
 * prints and saves an admin token), `reelay keys create`, the README's own curl body, then polling until the
 * video described there is served. Skipped until README.md exists (it is written separately).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { downloadVideo, expectVideo, probeFile, sleep, TASK_ID, tempDir } from './helpers.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const README = path.join(ROOT, 'README.md');
const run = promisify(execFile);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

let child: ChildProcess | undefined;
let dir: string | undefined;
afterAll(async () => {
  if (child && child.exitCode === null) {
    child.kill('SIGKILL');
    await new Promise((r) => child!.once('exit', r));
  }
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe.runIf(fs.existsSync(README))('README quick start', () => {
  it('serve, create a key, submit the README’s request, poll, get the video it describes, stop cleanly', async () => {
    const readme = fs.readFileSync(README, 'utf8');
    expect(readme.split('\n').slice(0, 6).join('\n')).toContain('npm ci && npm start');
    // The submit body the README shows, taken from its curl -d '...'.
    const bodyText = /videos\/generations[\s\S]*?-d '(\{[^']*\})'/.exec(readme)?.[1];
    expect(bodyText, 'the README shows a curl submit with -d').toBeDefined();
    const body = JSON.parse(bodyText!) as Record<string, unknown>;

    dir = tempDir('reelay-readme-');
    const dataDir = path.join(dir, 'data');
    const port = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env, REELAY_DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', REELAY_SIM_LATENCY_MS: '200', REELAY_LOG_LEVEL: 'warn' };
    delete env.REELAY_ADMIN_TOKEN; // first start generates one
    delete env.REELAY_CONFIG;

    // `npm start` is `node bin/reelay.js serve`.
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    expect(pkg.scripts.start).toBe('node bin/reelay.js serve');
    child = spawn(process.execPath, ['bin/reelay.js', 'serve'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (c) => (out += c));
    child.stderr!.on('data', (c) => (out += c));
    const base = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 30_000;
    while (!out.includes('serving')) {
      expect(child.exitCode, out).toBeNull();
      expect(Date.now(), out).toBeLessThan(deadline);
      await sleep(50);
    }

    // The admin token is printed once and saved in data/admin-token.
    const saved = fs.readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim();
    expect(out).toContain(saved);
    expect((await fetch(`${base}/admin/keys`, { headers: { authorization: `Bearer ${saved}` } })).status).toBe(200);

    // export KEY=$(npx reelay keys create --name me --balance 10)
    const created = await run(process.execPath, ['bin/reelay.js', 'keys', 'create', '--name', 'me', '--balance', '10'], { cwd: ROOT, env, timeout: 30_000 });
    const key = created.stdout.trim();
    const auth = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };

    const submitted = await fetch(`${base}/v1/videos/generations`, { method: 'POST', headers: auth, body: JSON.stringify(body) });
    expect(submitted.status).toBe(200);
    const s = (await submitted.json()) as any;
    expect(s).toEqual({ code: 200, data: [{ status: 'submitted', task_id: expect.stringMatching(TASK_ID) }] });

    let task: any;
    for (const end = Date.now() + 60_000; ; ) {
      task = ((await (await fetch(`${base}/v1/tasks/${s.data[0].task_id}`, { headers: auth })).json()) as any).data;
      if (['completed', 'failed', 'cancelled'].includes(task.status)) break;
      expect(Date.now()).toBeLessThan(end);
      await sleep(100);
    }
    // What the README says comes back: completed, cost 0.5, a 1280×720, 5-second, 24 fps H.264 video with audio.
    expect(task).toMatchObject({ status: 'completed', progress: 100, cost: 0.5 });
    expect(task.result.videos[0].url[0]).toMatch(new RegExp(`^${base}/files/results/task_[0-9A-Z]{26}/0\\.mp4\\?expires=\\d+&sig=`));
    const { file } = await downloadVideo(task.result.videos[0].url[0], dir);
    expectVideo(await probeFile(file), { width: 1280, height: 720, seconds: 5, audio: true });

    // Ctrl-C / SIGTERM: a clean stop.
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child!.once('exit', (c) => r(c)));
    expect(code).toBe(0);
  }, 90_000);
});
