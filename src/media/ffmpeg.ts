/**
 * Where ffmpeg, ffprobe and the font live, and how to run the tools.
 *
 * An operator's choice (REELAY_FFMPEG / REELAY_FFPROBE) wins, then a system binary on PATH (usually newer and
 * faster), then the static builds shipped by the npm installers, so a fresh clone works with no system
 * packages. The tools run as child processes, never blocking the event loop.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

const STDERR_KEEP = 16 * 1024;
const STDOUT_LIMIT = 8 * 1024 * 1024;

function findOnPath(name: string): string | undefined {
  const names = process.platform === 'win32' ? [`${name}.exe`, name] : [name];
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    for (const candidate of names) {
      const full = path.join(dir, candidate);
      try {
        if (fs.statSync(full).isFile()) {
          fs.accessSync(full, fs.constants.X_OK);
          return full;
        }
      } catch {
        // not here, or not executable: keep looking
      }
    }
  }
  return undefined;
}

function fromInstaller(pkg: string): string {
  try {
    return (require(pkg) as { path: string }).path;
  } catch (e) {
    // The installers throw plain strings when their platform binary is missing.
    throw new Error(`no ${pkg} binary for ${process.platform}-${process.arch} (${String(e)}); install one or set its REELAY_ variable`);
  }
}

function locator(envName: string, tool: string, installer: string): () => string {
  let found: string | undefined;
  return () => {
    const chosen = process.env[envName];
    if (chosen) return chosen;
    found ??= findOnPath(tool) ?? fromInstaller(installer);
    return found;
  };
}

export const ffmpegPath: () => string = locator('REELAY_FFMPEG', 'ffmpeg', '@ffmpeg-installer/ffmpeg');
export const ffprobePath: () => string = locator('REELAY_FFPROBE', 'ffprobe', '@ffprobe-installer/ffprobe');

let font: string | undefined;
/** DejaVu Sans from the dejavu-fonts-ttf package: covers Latin, Greek, Cyrillic and many symbols. */
export function fontPath(): string {
  font ??= path.join(path.dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf', 'DejaVuSans.ttf');
  return font;
}

export interface RunOptions {
  signal?: AbortSignal;
  /** Kill the tool after this many ms. */
  timeoutMs?: number;
}

/** A media tool failed: it exited non-zero, timed out, or could not start. */
export class MediaToolError extends Error {
  constructor(
    message: string,
    readonly reason: 'exit' | 'timeout' | 'spawn' | 'output',
    readonly stderrTail: string = '',
  ) {
    super(message);
    this.name = 'MediaToolError';
  }
}

function lastLines(text: string, count: number): string {
  return text.trim().split(/\r?\n/).slice(-count).join('\n');
}

/** Runs a tool to completion; resolves with its stdout. Abort and timeout kill it, then reject once it is gone. */
function runTool(tool: string, binary: string, args: string[], opts: RunOptions): Promise<string> {
  const { signal, timeoutMs } = opts;
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
    let stderr = '';
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let failure: unknown;

    const stop = (why: unknown): void => {
      failure ??= why;
      child.kill('SIGKILL');
    };
    const onAbort = (): void => stop(signal!.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    const timer = timeoutMs ? setTimeout(() => stop(new MediaToolError(`${tool} timed out after ${timeoutMs} ms`, 'timeout')), timeoutMs) : undefined;

    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_KEEP);
    });
    child.stdout.on('data', (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (stdoutBytes > STDOUT_LIMIT) stop(new MediaToolError(`${tool} wrote more than ${STDOUT_LIMIT} bytes`, 'output'));
      else stdout.push(chunk);
    });

    const finish = (err?: unknown): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve(Buffer.concat(stdout).toString('utf8'));
    };
    child.on('error', (e) => finish(failure ?? new MediaToolError(`${tool} could not start (${binary}): ${e.message}`, 'spawn')));
    child.on('close', (code, sig) => {
      if (failure) return finish(failure);
      if (code === 0) return finish();
      const tail = lastLines(stderr, 8);
      finish(new MediaToolError(`${tool} exited with ${code ?? sig}${tail ? `:\n${tail}` : ''}`, 'exit', tail));
    });
  });
}

/** Runs ffmpeg quietly (only errors reach stderr, so a failure's message is the error itself). */
export async function runFfmpeg(args: string[], opts: RunOptions = {}): Promise<void> {
  await runTool('ffmpeg', ffmpegPath(), ['-hide_banner', '-nostdin', '-loglevel', 'error', ...args], opts);
}

/** Runs ffprobe and returns its stdout. */
export function runFfprobe(args: string[], opts: RunOptions = {}): Promise<string> {
  return runTool('ffprobe', ffprobePath(), ['-hide_banner', '-loglevel', 'error', ...args], opts);
}
