import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Command, CommanderError } from 'commander';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeReelay, errorAnswer, fakeMp4 } from '../../client/testing/fakeReelay.ts';
import { registerGenerate } from './generate.ts';

let server: FakeReelay;
let dir: string;

beforeEach(async () => {
  server = await new FakeReelay().start();
  dir = await mkdtemp(join(tmpdir(), 'reelay-cli-'));
});
afterEach(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** What was drawn on the (fake) terminal. */
  terminal: string;
}

/** Runs `reelay generate ...` in-process, as bin/reelay.js would, with its output captured. */
async function run(args: string[], opts: { tty?: boolean; env?: Record<string, string | undefined> } = {}): Promise<RunResult> {
  const out: string[] = [];
  const err: string[] = [];
  const terminal: string[] = [];
  const tty = Object.assign(new PassThrough(), { isTTY: opts.tty ?? false, columns: 120 });
  tty.on('data', (chunk: Buffer) => terminal.push(chunk.toString()));
  // Output and exit handling are configured before registering: subcommands copy them when created.
  // showHelpAfterError as in main.ts, so a runtime failure is checked not to dump the help.
  const program = new Command('reelay').exitOverride().showHelpAfterError().configureOutput({ writeOut: (s) => out.push(s), writeErr: (s) => err.push(s) });
  registerGenerate(program, {
    progressStream: tty,
    env: { REELAY_URL: server.url, REELAY_API_KEY: server.apiKey, ...opts.env },
  });
  let exitCode = 0;
  try {
    await program.parseAsync(['generate', '--poll-interval', '5', ...args], { from: 'user' });
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    exitCode = e.exitCode;
  }
  return { exitCode, stdout: out.join(''), stderr: err.join(''), terminal: terminal.join('') };
}

function sentBody(i = 0): Record<string, unknown> {
  return JSON.parse(server.requestsTo('POST', '/v1/videos/generations')[i]!.body.toString()) as Record<string, unknown>;
}

describe('reelay generate', () => {
  it('submits typed params, prints plain progress lines off a terminal, downloads and reports', async () => {
    const out = join(dir, 'dog.mp4');
    const r = await run(['--model', 'veo3.1-fast-official', '--prompt', 'a dog', '--param', 'duration=8', '--param', 'generate_audio=true', '--out', out]);
    expect(r.exitCode).toBe(0);
    expect(sentBody()).toEqual({ model: 'veo3.1-fast-official', prompt: 'a dog', duration: 8, generate_audio: true });
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toBe('submitted task_0001');
    expect(lines.slice(1).map((l) => l.split(' ').slice(0, 3).join(' '))).toEqual([
      'task_0001 pending 0%',
      'task_0001 processing 30%',
      'task_0001 processing 60%',
      'task_0001 processing 90%',
      'task_0001 completed 100%',
    ]);
    expect(lines[1]).toMatch(/ETA (1m5\ds|2m00s)$/);
    expect(r.stderr).not.toContain('\x1b[');
    expect(r.terminal).toBe('');
    expect(r.stdout).toContain('task:  task_0001 completed');
    expect(r.stdout).toContain('cost:  0.4');
    expect(r.stdout).toContain(`video: ${out} (2048 bytes)`);
    expect(r.stdout).toMatch(/url: {3}http:\/\/127\.0\.0\.1:\d+\/files\/task_0001-1\.mp4\?sig=fake/);
    expect((await readFile(out)).equals(fakeMp4('task_0001#1', 2048))).toBe(true);
  });

  it('saves several videos as name-1, name-2', async () => {
    const r = await run(['--model', 'veo3.1-quality-official', '--prompt', 'twins', '--param', 'sample_count=2', '--out', join(dir, 'v.mp4')]);
    expect(r.exitCode).toBe(0);
    expect((await readdir(dir)).sort()).toEqual(['v-1.mp4', 'v-2.mp4']);
    expect((await readFile(join(dir, 'v-2.mp4'))).equals(fakeMp4('task_0001#2', 2048))).toBe(true);
    expect(r.stdout).toContain('cost:  0.8');
    expect(r.stdout.match(/^url:/gm)).toHaveLength(2);
  });

  it('draws a live bar on a terminal', async () => {
    // cli-progress redraws at most 10 times a second, so polls are spaced for each state to be drawn.
    const r = await run(['--model', 'wan2.5-preview', '--prompt', 'rain', '--out', join(dir, 'r.mp4'), '--poll-interval', '120'], { tty: true });
    expect(r.exitCode).toBe(0);
    expect(r.terminal).toContain('task_0001');
    expect(r.terminal).toContain('30% | processing');
    expect(r.terminal).toContain('90% | processing');
    expect(r.terminal).toMatch(/ETA \d/);
    expect(r.terminal).toMatch(/100% \| completed \| took \d+s/);
    expect(r.terminal).toContain('\x1b['); // cursor control: the bar is redrawn in place
    expect(r.stderr).not.toContain('processing 30%');
  });

  it('uploads local images and maps them onto the spec fields (veo: first and last frame)', async () => {
    const png = join(dir, 'start.png');
    await writeFile(png, Buffer.from('89504e470d0a1a0a', 'hex'));
    const r = await run(['--model', 'veo3.1-fast-official', '--prompt', 'go', '--image', png, '--image', 'https://example.com/end.png', '--no-wait']);
    expect(r.exitCode).toBe(0);
    expect(server.uploads).toHaveLength(1);
    expect(server.uploads[0]).toMatchObject({ filename: 'start.png', contentType: 'image/png' });
    const body = sentBody();
    expect(body.first_frame_image).toMatch(/\/files\/up_1-start\.png$/);
    expect(body.last_frame_image).toBe('https://example.com/end.png');
    expect(r.stdout).toBe('task_0001\n');
    expect(server.requestsTo('GET', '/v1/tasks/task_0001')).toHaveLength(0);
  });

  it('puts several happyhorse images, or any wan2.5 image, into image_urls', async () => {
    await run(['--model', 'happyhorse-1.0', '--prompt', 'p', '--image', 'https://e/a.png', '--image', 'https://e/b.png', '--no-wait']);
    await run(['--model', 'happyhorse-1.0', '--prompt', 'p', '--image', 'https://e/a.png', '--no-wait']);
    await run(['--model', 'wan2.5-preview', '--image', 'https://e/c.png', '--no-wait']);
    await run(['--model', 'happyhorse-1.0', '--prompt', 'p', '--video', 'https://e/v.mp4', '--image', 'https://e/s.png', '--no-wait']);
    expect(sentBody(0).image_urls).toEqual(['https://e/a.png', 'https://e/b.png']);
    expect(sentBody(1).first_frame_image).toBe('https://e/a.png');
    expect(sentBody(2).image_urls).toEqual(['https://e/c.png']);
    expect(sentBody(3)).toMatchObject({ video_url: 'https://e/v.mp4', image_urls: ['https://e/s.png'] });
  });

  it('takes an image field through --param too, uploading a local file', async () => {
    const png = join(dir, 'ref.png');
    await writeFile(png, Buffer.from('89504e470d0a1a0a', 'hex'));
    const r = await run(['--model', 'happyhorse-1.0', '--prompt', 'p', '--image', 'https://e/a.png', '--param', `image_urls=${png}`, '--no-wait']);
    expect(r.exitCode).toBe(0);
    // One --image alone would be a first frame; the explicit image_urls makes it a reference instead.
    expect(sentBody()).not.toHaveProperty('first_frame_image');
    expect(sentBody().image_urls).toEqual(['https://e/a.png', expect.stringMatching(/\/files\/up_1-ref\.png$/)]);
  });

  it('prints one JSON object with --json', async () => {
    const r = await run(['--model', 'viduq3', '--prompt', 'hug', '--image', 'https://e/a.png', '--json', '--out', join(dir, 'j.mp4')]);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toBe('');
    const parsed = JSON.parse(r.stdout) as { task_id: string; status: string; cost: number; videos: { path: string; bytes: number }[] };
    expect(parsed).toMatchObject({ task_id: 'task_0001', status: 'completed', cost: 0.4, videos: [{ path: join(dir, 'j.mp4'), bytes: 2048 }] });
  });

  it('reports a failed task with its error code and message, and exits 1', async () => {
    const r = await run(['--model', 'wan2.5-preview', '--prompt', 'sim:fail now', '--out', join(dir, 'f.mp4')]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('task_0001 failed 100%');
    expect(r.stderr).toContain('error: task task_0001 failed: upstream_error: the upstream refused the job: content moderation flagged the prompt');
    expect(r.stdout).toBe('');
    expect(await readdir(dir)).toEqual([]);
  });

  it('prints a failed task as one JSON object with --json', async () => {
    const r = await run(['--model', 'wan2.5-preview', '--prompt', 'sim:fail', '--json']);
    expect(r.exitCode).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ task_id: 'task_0001', status: 'failed', cost: 0, videos: [], error: { code: 'upstream_error' } });
  });

  it('reports an API error with code, message and param', async () => {
    server.script('POST', '/v1/videos/generations', errorAnswer(400, 'invalid_duration', 'invalid_duration', 'duration 7 is not one of 4, 6, 8', 'duration'));
    const r = await run(['--model', 'veo3.1-fast-official', '--prompt', 'x', '--param', 'duration=7']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('error: duration 7 is not one of 4, 6, 8');
    expect(r.stderr).toContain('code: invalid_duration');
    expect(r.stderr).toContain('param: duration');
    expect(r.stderr).toContain('request id: req_1');
    expect(r.stderr).not.toContain('Usage:');
  });

  it('reports 402 as JSON too with --json', async () => {
    server.script('POST', '/v1/videos/generations', errorAnswer(402, 'payment_required', 'payment_required', 'balance 0.10 is below the price 0.40'));
    const r = await run(['--model', 'wan2.5-preview', '--prompt', 'x', '--json']);
    expect(r.exitCode).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ error: { status: 402, code: 'payment_required', message: 'balance 0.10 is below the price 0.40' } });
    expect(r.stderr).toContain('code: payment_required');
  });

  it('prints the task id and replay flag as JSON with --no-wait --json', async () => {
    const r = await run(['--model', 'wan2.5-preview', '--prompt', 'x', '--no-wait', '--json']);
    expect(JSON.parse(r.stdout)).toEqual({ task_id: 'task_0001', replayed: false });
  });

  it('refuses bad flags before contacting the gateway', async () => {
    const cases: [string[], string][] = [
      [['--model', 'veo3.1-fast-official', '--prompt', 'x', '--param', 'durration=8'], 'has no field "durration"; its fields: prompt, negative_prompt, duration'],
      [['--model', 'veo3.1-fast-official', '--prompt', 'x', '--param', 'duration=8s'], 'expected an integer, got "8s"'],
      [['--model', 'veo3.1-fast-official', '--prompt', 'x', '--param', 'prompt=y'], '--param prompt: already given'],
      [['--model', 'veo3.1-fast-official', '--prompt', 'x', '--image', join(dir, 'none.png')], 'no such file'],
      [['--model', 'veo3.1-fast-official', '--prompt', 'x', '--image', 'https://e/1', '--image', 'https://e/2', '--image', 'https://e/3'], 'takes at most 2 image(s)'],
      [['--model', 'happyhorse-1.0', '--prompt', 'x', '--video', './local.mp4'], 'must be an http(s) URL'],
      [['--model', 'wan2.5-preview', '--prompt', 'x', '--video', 'https://e/v.mp4'], 'takes no source video'],
    ];
    for (const [args, message] of cases) {
      const r = await run(args);
      expect(r.exitCode, args.join(' ')).toBe(1);
      expect(r.stderr).toContain(message);
    }
    const noKey = await run(['--model', 'wan2.5-preview', '--prompt', 'x'], { env: { REELAY_API_KEY: undefined } });
    expect(noKey.stderr).toContain('an API key is needed');
    const noModel = await run(['--prompt', 'x']);
    expect(noModel.exitCode).toBe(1);
    expect(noModel.stderr).toContain("required option '-m, --model <id>' not specified");
    expect(noModel.stderr).toContain('Usage: reelay generate');
    expect(server.requests).toHaveLength(0);
  });

  it('stops waiting on Ctrl-C, names the task that goes on, and exits 130', async () => {
    const listenersBefore = process.listenerCount('SIGINT');
    const running = run(['--model', 'wan2.5-preview', '--prompt', 'x', '--poll-interval', '10000']);
    await vi.waitFor(() => expect(server.requestsTo('GET', '/v1/tasks/task_0001')).toHaveLength(1));
    process.emit('SIGINT');
    const r = await running;
    expect(r.exitCode).toBe(130);
    expect(r.stderr).toContain('interrupted; task task_0001 goes on at the gateway');
    expect(process.listenerCount('SIGINT')).toBe(listenersBefore);
  });

  it('says when the gateway cannot be reached', async () => {
    const refused = async () => {
      throw new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED') });
    };
    const program = new Command('reelay').exitOverride();
    const err: string[] = [];
    program.configureOutput({ writeOut: () => {}, writeErr: (s) => err.push(s) });
    registerGenerate(program, { env: { REELAY_API_KEY: 'k' }, fetch: refused });
    await expect(program.parseAsync(['generate', '-m', 'wan2.5-preview', '-p', 'x'], { from: 'user' })).rejects.toMatchObject({ exitCode: 1 });
    expect(err.join('')).toContain('cannot reach the gateway (--base-url / REELAY_URL)');
    expect(err.join('')).toContain('ECONNREFUSED');
  });

  it('takes --base-url and --api-key over the environment', async () => {
    const r = await run(['--model', 'wan2.5-preview', '--prompt', 'x', '--no-wait', '--base-url', server.url, '--api-key', server.apiKey], {
      env: { REELAY_URL: 'http://127.0.0.1:9', REELAY_API_KEY: 'wrong' },
    });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('task_0001\n');
  });
});
