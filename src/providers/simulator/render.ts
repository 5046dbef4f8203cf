/**
 * Renders the simulator's video: a real H.264 MP4 of exactly the planned size, frame rate and length, showing
 * the prompt, seed, model and "video i/n", with a moving dot, a frame/time counter and a progress bar so a
 * viewer sees it play. Same options and same ffmpeg binary → same bytes.
 *
 * Text reaches drawtext through files (`textfile=`, expansion off for the prompt), so no prompt character
 * needs escaping. The background is a flat colour (or the input image over it): flat frames encode many
 * times faster than test patterns.
 */
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fontPath, runFfmpeg } from '../../media/ffmpeg.ts';

export interface RenderOptions {
  outPath: string;
  width: number;
  height: number;
  fps: number;
  /** Length; the video has round(fps × seconds) frames. */
  seconds: number;
  audio: boolean;
  prompt: string;
  seed: number;
  model: string;
  /** 0-based position of this video among the request's `count`; shown as "video index+1/count". */
  index: number;
  count: number;
  /** Image-to-video: the image, fitted inside the frame over the background colour. */
  inputImagePath?: string;
  signal?: AbortSignal;
}

/** Fixed, not per-machine: x264's output depends on its thread count, and the bytes must not. */
const ENCODER_THREADS = 4;
const AUDIO_RATE = 48_000;

export async function renderSimulatedVideo(opts: RenderOptions): Promise<void> {
  const frames = checkOptions(opts);
  const layout = layOut(opts);
  const outPath = path.resolve(opts.outPath);
  const dir = path.dirname(outPath);
  await fs.mkdir(dir, { recursive: true });
  const textDir = await fs.mkdtemp(path.join(os.tmpdir(), 'reelay-render-'));
  // Same directory as the result, so the rename is atomic; hidden so listings skip it.
  const tmpPath = path.join(dir, `.${path.basename(outPath)}.${randomUUID()}.tmp`);
  try {
    const files = {
      header: path.join(textDir, 'header.txt'),
      prompt: path.join(textDir, 'prompt.txt'),
      counter: path.join(textDir, 'counter.txt'),
      dot: path.join(textDir, 'dot.txt'),
    };
    await Promise.all([
      fs.writeFile(files.header, `${opts.model}\nseed ${opts.seed}\nvideo ${opts.index + 1}/${opts.count}`),
      fs.writeFile(files.prompt, layout.promptLines.join('\n')),
      fs.writeFile(files.counter, `frame %{eif:n+1:d}/${frames}  %{pts:hms} / ${(frames / opts.fps).toFixed(3)} s`),
      fs.writeFile(files.dot, '\u25CF'),
    ]);
    const args = ffmpegArgs(opts, frames, layout, files);
    await runFfmpeg([...args, `file:${tmpPath}`], { signal: opts.signal });
    const handle = await fs.open(tmpPath, 'r');
    try {
      await handle.sync(); // a crash after the rename must not leave a renamed, empty file
    } finally {
      await handle.close();
    }
    await fs.rename(tmpPath, outPath);
  } catch (e) {
    await fs.rm(tmpPath, { force: true });
    if (e instanceof Error && /No such filter: 'drawtext'|Unknown encoder 'libx264'/.test(e.message)) {
      e.message += '\nthis ffmpeg lacks drawtext (libfreetype) or libx264; point REELAY_FFMPEG at one that has both';
    }
    throw e;
  } finally {
    await fs.rm(textDir, { recursive: true, force: true });
  }
}

function checkOptions(o: RenderOptions): number {
  const positiveInt = (n: number): boolean => Number.isInteger(n) && n > 0;
  if (!positiveInt(o.width) || !positiveInt(o.height) || o.width % 2 || o.height % 2) {
    throw new RangeError(`width and height must be even positive integers (yuv420p), got ${o.width}×${o.height}`);
  }
  if (!(o.fps > 0) || !(o.seconds > 0)) throw new RangeError(`fps and seconds must be positive, got ${o.fps} fps, ${o.seconds} s`);
  if (!positiveInt(o.count) || !Number.isInteger(o.index) || o.index < 0 || o.index >= o.count) {
    throw new RangeError(`index must be in 0..count-1, got ${o.index} of ${o.count}`);
  }
  return Math.max(1, Math.round(o.fps * o.seconds));
}

interface Layout {
  margin: number;
  headerSize: number;
  promptSize: number;
  promptLines: string[];
  promptTop: number;
  promptHeight: number;
  counterSize: number;
  dotSize: number;
  barHeight: number;
}

const LINE_HEIGHT = 1.25; // DejaVu Sans line advance is ~1.16 em; a little slack

function layOut(o: RenderOptions): Layout {
  const short = Math.min(o.width, o.height);
  const margin = Math.max(4, Math.round(short * 0.04));
  const headerSize = Math.max(8, Math.round(short / 26));
  const counterSize = headerSize;
  const dotSize = Math.max(8, Math.round(short / 12));
  const barHeight = Math.max(2, Math.round(short / 100));
  const promptTop = margin * 2 + Math.ceil(3 * LINE_HEIGHT * headerSize);
  const footer = margin * 2 + barHeight + Math.ceil(LINE_HEIGHT * counterSize) + Math.ceil(1.3 * dotSize);
  const promptHeight = Math.max(o.height - promptTop - footer, headerSize);
  const maxWidth = o.width - 2 * margin;

  const minSize = Math.max(8, Math.round(short / 32));
  let promptSize = Math.max(minSize, Math.round(short / 14));
  let lines = wrapText(displayPrompt(o.prompt), maxWidth / promptSize);
  while (lines.length * LINE_HEIGHT * promptSize > promptHeight && promptSize > minSize) {
    promptSize = Math.max(minSize, Math.floor(promptSize * 0.85));
    lines = wrapText(displayPrompt(o.prompt), maxWidth / promptSize);
  }
  const fit = Math.max(1, Math.floor(promptHeight / (LINE_HEIGHT * promptSize)));
  if (lines.length > fit) lines = [...lines.slice(0, fit - 1), `${lines[fit - 1]}…`];
  return { margin, headerSize, promptSize, promptLines: lines, promptTop, promptHeight, counterSize, dotSize, barHeight };
}

/** More than fits on any frame, even at the smallest font size. */
const MAX_PROMPT_CHARS = 5000;

/** Control characters would render as boxes or break lines oddly; keep newlines, flatten the rest. */
function displayPrompt(prompt: string): string {
  const text = prompt
    .slice(0, MAX_PROMPT_CHARS)
    .replace(/\r\n?|[\u2028\u2029]/g, '\n')
    .replace(/\t/g, '    ')
    .replace(/[\u0000-\u0009\u000B-\u001F\u007F-\u009F]/g, ' ')
    .trim();
  return text || '(no prompt)';
}

/** Approximate advance of one grapheme in em for DejaVu Sans, erring wide so lines fit. */
function graphemeEm(g: string): number {
  if (g === ' ') return 0.33;
  if (/^[ijlI.,:;'!|]$/.test(g)) return 0.36;
  if (/^[frt()[\]{}\-"`/\\]$/.test(g)) return 0.52;
  if (/^[mwMW%@]$/.test(g)) return 1.02;
  if (/^[A-Z&#]$/.test(g)) return 0.78;
  if (/^[\x21-\x7E]$/.test(g)) return 0.66;
  return (g.codePointAt(0) ?? 0) >= 0x1100 ? 1.05 : 0.8; // CJK, emoji and missing-glyph boxes are wide
}

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
const graphemes = (s: string): string[] => Array.from(segmenter.segment(s), (x) => x.segment);
const widthEm = (s: string): number => graphemes(s).reduce((sum, g) => sum + graphemeEm(g), 0);

/** Greedy word wrap to `maxEm` em per line; words longer than a line are split between graphemes. */
export function wrapText(text: string, maxEm: number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const word of paragraph.split(/ +/)) {
      const candidate = line ? `${line} ${word}` : word;
      if (widthEm(candidate) <= maxEm) {
        line = candidate;
        continue;
      }
      // A word wider than a whole line is split, starting on the current line; others move to the next.
      if (widthEm(word) > maxEm) {
        line = line ? `${line} ` : '';
      } else {
        if (line) lines.push(line);
        line = '';
      }
      for (const g of graphemes(word)) {
        if (line && widthEm(line + g) > maxEm) {
          lines.push(line);
          line = '';
        }
        line += g;
      }
    }
    lines.push(line);
  }
  return lines;
}

/** Deterministic bytes from the inputs that should change the picture or the tone. */
function digest(...parts: (string | number)[]): Buffer {
  return createHash('sha256').update(parts.join('\u0000')).digest();
}

function hslHex(hue: number, sat: number, light: number): string {
  const s = sat / 100;
  const l = light / 100;
  const k = (n: number): number => (n + hue / 30) % 12;
  const a = s * Math.min(l, 1 - l);
  const channel = (n: number): number => Math.round(255 * (l - a * Math.max(-1, Math.min(k(n) - 3, 9 - k(n), 1))));
  return `0x${[0, 8, 4].map((n) => channel(n).toString(16).padStart(2, '0')).join('')}`;
}

/** Dark enough for white text, distinct per (prompt, seed, index). */
export function backgroundColour(prompt: string, seed: number, index: number): string {
  const d = digest(prompt, seed, index);
  return hslHex(d.readUInt16BE(0) % 360, 40 + (d[2] % 30), 26 + (d[3] % 14));
}

/** 220–880 Hz, from the seed. */
export function toneHz(seed: number): number {
  return 220 + (digest('tone', seed).readUInt32BE(0) % 661);
}

// Filter graph values pass two parsers: the filter's option parser, then the graph parser around it.
const escapeValue = (v: string | number): string =>
  String(v)
    .replace(/[\\':]/g, (c) => `\\${c}`)
    .replace(/[\\'[\],;]/g, (c) => `\\${c}`);
const filter = (name: string, options: Record<string, string | number>): string =>
  `${name}=${Object.entries(options)
    .map(([k, v]) => `${k}=${escapeValue(v)}`)
    .join(':')}`;

function ffmpegArgs(o: RenderOptions, frames: number, l: Layout, files: Record<'header' | 'prompt' | 'counter' | 'dot', string>): string[] {
  const seconds = frames / o.fps;
  const background = backgroundColour(o.prompt, o.seed, o.index);
  const font = fontPath();
  const text = (options: Record<string, string | number>): string =>
    filter('drawtext', { fontfile: font, fontcolor: 'white', ...options });
  const boxed = (size: number): Record<string, string | number> => ({ box: 1, boxcolor: 'black@0.4', boxborderw: Math.max(2, Math.round(size / 4)) });
  const size = `${o.width}x${o.height}`;

  // The still part (background, image, header, prompt) is drawn on one frame and looped: drawing text with
  // boxes on every 4K frame costs more than encoding it.
  const chains: string[] = [];
  chains.push(`${filter('color', { c: background, s: size, r: o.fps })},format=yuv420p,trim=end_frame=1[bg]`);
  let still = '[bg]';
  if (o.inputImagePath) {
    chains.push(`[0:v]trim=end_frame=1,${filter('scale', { w: o.width, h: o.height, force_original_aspect_ratio: 'decrease' })},setsar=1[img]`);
    chains.push(`[bg][img]${filter('overlay', { x: '(W-w)/2', y: '(H-h)/2' })}[base]`);
    still = '[base]';
  }
  const header = text({ textfile: files.header, expansion: 'none', fontsize: l.headerSize, x: l.margin, y: l.margin, ...boxed(l.headerSize) });
  const prompt = text({
    textfile: files.prompt,
    expansion: 'none',
    fontsize: l.promptSize,
    x: '(w-text_w)/2',
    y: `max(${l.promptTop},${l.promptTop}+(${l.promptHeight}-text_h)/2)`,
    ...boxed(l.promptSize),
  });
  const replay = [filter('loop', { loop: frames - 1, size: 1, start: 0 }), filter('setpts', { expr: `N/${o.fps}/TB` })];
  chains.push(`${still}${[header, prompt, ...replay].join(',')}[still]`);

  const counterY = o.height - l.margin - l.barHeight - Math.ceil(LINE_HEIGHT * l.counterSize);
  const counter = text({ textfile: files.counter, fontsize: l.counterSize, x: l.margin, y: counterY, ...boxed(l.counterSize) });
  // Swings across the frame and back every 2 s.
  const dot = text({
    textfile: files.dot,
    expansion: 'none',
    fontsize: l.dotSize,
    fontcolor: hslHex((digest(o.prompt, o.seed, o.index).readUInt16BE(0) + 180) % 360, 85, 65),
    x: `${l.margin}+(w-${2 * l.margin}-text_w)*(0.5-0.5*cos(PI*t))`,
    y: counterY - Math.ceil(1.3 * l.dotSize),
  });
  chains.push(`[still]${counter},${dot}[moving]`);
  chains.push(`${filter('color', { c: 'white', s: `${o.width}x${l.barHeight}`, r: o.fps })}[bar]`);
  chains.push(`[moving][bar]${filter('overlay', { x: `W*(n+1)/${frames}-w`, y: 'H-h', shortest: 1 })}[v]`);
  if (o.audio) {
    chains.push(`${filter('sine', { frequency: toneHz(o.seed), sample_rate: AUDIO_RATE, duration: seconds.toFixed(6) })},aformat=channel_layouts=stereo[a]`);
  }

  return [
    ...(o.inputImagePath ? ['-i', `file:${path.resolve(o.inputImagePath)}`] : []),
    '-filter_complex', chains.join(';'),
    '-map', '[v]',
    ...(o.audio ? ['-map', '[a]', '-c:a', 'aac', '-b:a', '128k', '-flags:a', '+bitexact'] : []),
    '-frames:v', String(frames),
    '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '23', '-g', String(Math.round(o.fps * 2)), '-pix_fmt', 'yuv420p',
    '-threads:v', String(ENCODER_THREADS), '-flags:v', '+bitexact',
    '-fflags', '+bitexact', '-map_metadata', '-1', '-map_chapters', '-1',
    '-movflags', '+faststart', '-f', 'mp4', '-y',
  ];
}
