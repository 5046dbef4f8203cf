/**
 * `reelay generate`: submit a video, show its progress, download the result(s).
 *
 * Local `--image` files are uploaded through POST /v1/uploads/images and passed by URL, not inlined as
 * data URIs: the body stays small (a data URI is 4/3 of the file and would meet the body limit before
 * the model's image limit), the gateway stores the image once, and a retried submit re-sends a URL,
 * not megabytes.
 *
 * Output: progress on stderr (a bar on a terminal, plain lines otherwise); results on stdout, so
 * `--json` output can be piped. Exit code 0 on success, 1 on any failure (bad flags, API error, failed
 * or cancelled task, failed download).
 *
 * Text goes through the command's commander output configuration (writeOut / writeErr), so a caller
 * that runs the program in-process can capture it by configuring output before registering.
 */
import { stat } from 'node:fs/promises';
import { InvalidArgumentError, type Command } from 'commander';
import { ConnectionError, Reelay, ReelayError, type FetchLike, type Task, type VideoGenerationRequest } from '../../client/index.ts';
import { findModel, modelIds } from '../models/registry.ts';
import type { ModelSpec } from '../models/spec.ts';
import { UsageError, isRemoteImage, mapImages, outputPaths, parseParam, videoField } from './generateRequest.ts';
import { createProgressView } from './progressView.ts';

export interface GenerateDeps {
  /** Where the progress bar is drawn when it is a terminal; default process.stderr. */
  progressStream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Environment for REELAY_URL / REELAY_API_KEY; default process.env. */
  env?: Record<string, string | undefined>;
  fetch?: FetchLike;
}

interface GenerateFlags {
  model: string;
  prompt?: string;
  image?: string[];
  video?: string;
  param?: string[];
  out?: string;
  baseUrl?: string;
  apiKey?: string;
  wait: boolean;
  json?: boolean;
  pollInterval: number;
}

interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

const DEFAULT_URL = 'http://127.0.0.1:8080';

/** A task that ended failed or cancelled: reported with the task's own error. */
class TaskEndedError extends Error {
  constructor(readonly task: Task) {
    super(`task ${task.id} ${task.status}${task.error ? `: ${task.error.code}: ${task.error.message}` : ''}`);
  }
}

class InterruptedError extends Error {
  constructor(readonly taskId: string) {
    super(`interrupted; task ${taskId} goes on at the gateway (GET /v1/tasks/${taskId})`);
  }
}

export function registerGenerate(program: Command, deps: GenerateDeps = {}): Command {
  const cmd = program
    .command('generate')
    .description('submit a video generation, show its progress and download the result')
    .requiredOption('-m, --model <id>', `model id: ${modelIds().join(', ')}`)
    .option('-p, --prompt <text>', 'the prompt')
    .option('-i, --image <file|url>', 'an input image, repeatable; local files are uploaded first', collect)
    .option('--video <url>', 'source video URL (video edit)')
    .option('--param <key=value>', "any other request field, repeatable; typed by the model's spec", collect)
    .option('-o, --out <file>', 'where to save the video (several: name-1.mp4, name-2.mp4); default <task id>.mp4')
    .option('--base-url <url>', `gateway URL (env REELAY_URL, default ${DEFAULT_URL})`)
    .option('--api-key <key>', 'API key (env REELAY_API_KEY)')
    .option('--no-wait', 'print the task id and exit without waiting')
    .option('--json', 'print one JSON object on stdout instead of text')
    .option('--poll-interval <ms>', 'pause between status checks', positiveInt, 2000);
  cmd.action(async (flags: GenerateFlags) => {
    const output = cmd.configureOutput();
    const io: Io = { out: (s) => output.writeOut!(s), err: (s) => output.writeErr!(s) };
    try {
      await runGenerate(flags, io, deps);
    } catch (err) {
      if (flags.json) io.out(JSON.stringify(errorJson(err)) + '\n');
      // A failure while running is not a misuse of the command: no help text after it, even when the
      // program asks for help after errors (main.ts does, for commander's own usage errors).
      cmd.showHelpAfterError(false);
      // 130: the shell's code for "ended by SIGINT".
      cmd.error(describeError(err), { exitCode: err instanceof InterruptedError ? 130 : 1, code: `reelay.${errorCode(err)}` });
    }
  });
  return cmd;
}

async function runGenerate(flags: GenerateFlags, io: Io, deps: GenerateDeps): Promise<void> {
  const env = deps.env ?? process.env;
  const apiKey = flags.apiKey ?? env.REELAY_API_KEY;
  if (!apiKey) throw new UsageError('an API key is needed: --api-key or REELAY_API_KEY');
  const client = new Reelay({ baseUrl: flags.baseUrl ?? env.REELAY_URL ?? DEFAULT_URL, apiKey, fetch: deps.fetch });
  const spec = findModel(flags.model);

  const body = await buildBody(client, spec, flags);
  const { taskId, replayed } = await client.videos.create(body as unknown as VideoGenerationRequest);
  if (!flags.wait) {
    io.out(flags.json ? JSON.stringify({ task_id: taskId, replayed }) + '\n' : `${taskId}\n`);
    return;
  }
  if (!flags.json) io.err(`submitted ${taskId}${replayed ? ' (replayed)' : ''}\n`);

  const view = flags.json ? undefined : createProgressView({ stream: deps.progressStream ?? process.stderr, writeLine: (l) => io.err(l + '\n') });
  // Ctrl-C stops waiting, not the task: the bar is closed (restoring the cursor it hid) and the task id
  // is reported so the result can still be fetched.
  const interrupt = new AbortController();
  const onSigint = () => interrupt.abort(new InterruptedError(taskId));
  process.once('SIGINT', onSigint);
  let task: Task;
  try {
    task = await client.tasks.waitFor(taskId, { pollIntervalMs: flags.pollInterval, onProgress: (t) => view?.update(t), signal: interrupt.signal });
  } finally {
    process.off('SIGINT', onSigint);
    view?.stop();
  }
  if (task.status !== 'completed') throw new TaskEndedError(task);

  const urls = (task.result?.videos ?? []).map((v) => v.url[0]).filter((u): u is string => typeof u === 'string');
  const paths = outputPaths(flags.out ?? `${taskId}.mp4`, urls.length);
  const saved: { path: string; url: string; bytes: number }[] = [];
  for (const [i, url] of urls.entries()) {
    const { bytes } = await client.downloadVideo(url, paths[i]!);
    saved.push({ path: paths[i]!, url, bytes });
  }
  if (flags.json) {
    io.out(JSON.stringify(taskJson(task, saved)) + '\n');
    return;
  }
  io.out(`task:  ${task.id} completed\ncost:  ${task.cost}\n`);
  for (const v of saved) io.out(`video: ${v.path} (${v.bytes} bytes)\nurl:   ${v.url}\n`);
}

/** Flags → body. Everything that can be wrong locally is checked before any upload starts. */
async function buildBody(client: Reelay, spec: ModelSpec | undefined, flags: GenerateFlags): Promise<Record<string, unknown>> {
  const images = flags.image ?? [];
  const params = (flags.param ?? []).map((raw) => parseParam(spec, raw));
  const withVideo = flags.video !== undefined;
  if (withVideo && !/^https?:\/\//i.test(flags.video!)) throw new UsageError(`--video ${flags.video}: must be an http(s) URL`);
  // Where the --image inputs go depends only on how many there are, so it is known before uploading.
  const preferList = withVideo || params.some((p) => p.image === 'images');
  const taken = new Set(Object.keys(mapImages(spec, images, preferList)));
  if (flags.prompt !== undefined) taken.add('prompt');
  if (withVideo) taken.add(videoField(spec));
  for (const p of params) {
    // An image list field may take --param values on top of mapped --image inputs; anything else once.
    if (taken.has(p.key) && p.image !== 'images') throw new UsageError(`--param ${p.key}: already given (by --param, --prompt, --image or --video)`);
    taken.add(p.key);
  }
  for (const value of [...images, ...params.filter((p) => p.image).map((p) => String(p.value))]) {
    if (isRemoteImage(value)) continue;
    const st = await stat(value).catch(() => undefined);
    if (!st?.isFile()) throw new UsageError(`image ${value}: not an http(s) or data: URL, and no such file`);
  }

  const body: Record<string, unknown> = { model: spec?.id ?? flags.model };
  if (flags.prompt !== undefined) body.prompt = flags.prompt;
  if (withVideo) body[videoField(spec)] = flags.video;
  const urls = await Promise.all(images.map((v) => resolveImage(client, v)));
  Object.assign(body, mapImages(spec, urls, preferList));
  for (const p of params) {
    const value = p.image ? await resolveImage(client, String(p.value)) : p.value;
    body[p.key] = p.image === 'images' ? [...((body[p.key] as string[] | undefined) ?? []), value] : value;
  }
  return body;
}

async function resolveImage(client: Reelay, value: string): Promise<string> {
  if (isRemoteImage(value)) return value;
  return (await client.uploads.image(value)).url;
}

function taskJson(task: Task, videos: { path: string; url: string; bytes: number }[]): Record<string, unknown> {
  return { task_id: task.id, status: task.status, cost: task.cost, videos, ...(task.error ? { error: task.error } : {}) };
}

function errorJson(err: unknown): Record<string, unknown> {
  if (err instanceof TaskEndedError) {
    return { ...taskJson(err.task, []), error: err.task.error ?? { code: `task_${err.task.status}`, message: err.message } };
  }
  if (err instanceof ReelayError) {
    return { error: { status: err.status, code: err.code, type: err.type, message: err.message, param: err.param, request_id: err.requestId } };
  }
  return { error: { code: errorCode(err), message: err instanceof Error ? err.message : String(err) } };
}

/** The human report: for an API error its code, message and param (what to fix), and the request id. */
export function describeError(err: unknown): string {
  if (err instanceof TaskEndedError) return `error: ${err.message}`;
  if (err instanceof ConnectionError) return `error: cannot reach the gateway (--base-url / REELAY_URL): ${err.message}`;
  if (err instanceof ReelayError) {
    const lines = [`error: ${err.message}`];
    if (err.code) lines.push(`  code: ${err.code}`);
    if (err.param) lines.push(`  param: ${err.param}`);
    if (err.status) lines.push(`  status: ${err.status}`);
    if (err.requestId) lines.push(`  request id: ${err.requestId}`);
    return lines.join('\n');
  }
  return `error: ${err instanceof Error ? err.message : String(err)}`;
}

function errorCode(err: unknown): string {
  if (err instanceof TaskEndedError) return 'task_' + err.task.status;
  if (err instanceof UsageError) return 'usage';
  if (err instanceof InterruptedError) return 'interrupted';
  if (err instanceof ReelayError) return err.code ?? err.name;
  return 'error';
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer (milliseconds)');
  return n;
}
