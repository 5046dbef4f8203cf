import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFfmpeg } from '../../media/ffmpeg.ts';
import { probeMedia } from '../../media/probeVideo.ts';
import { backgroundColour, renderSimulatedVideo, toneHz, wrapText, type RenderOptions } from './render.ts';

let dir: string;
const file = (name: string): string => path.join(dir, name);
const base = { fps: 24, audio: false, prompt: 'a red fox in fresh snow', seed: 7, model: 'veo3.1-fast', index: 0, count: 1 };
const render = (name: string, o: Partial<RenderOptions> & { width: number; height: number; seconds: number }): Promise<void> =>
  renderSimulatedVideo({ ...base, ...o, outPath: file(name) });
const sha = (name: string): string => createHash('sha256').update(fs.readFileSync(file(name))).digest('hex');

/** Raw pixels of one frame in `pixFmt`, after `filter` (crop etc.; converted first, so odd crops work). */
async function pixels(name: string, frame: number, filter: string, pixFmt: 'rgb24' | 'gray'): Promise<Buffer> {
  const raw = file(`${name}.${frame}.${createHash('md5').update(filter).digest('hex')}.raw`);
  await runFfmpeg(['-i', file(name), '-vf', `select='eq(n,${frame})',format=${pixFmt},${filter}`, '-frames:v', '1', '-f', 'rawvideo', '-y', `file:${raw}`]);
  return fs.readFileSync(raw);
}

const rgbAt = async (name: string, x: number, y: number): Promise<number[]> => [...(await pixels(name, 0, `crop=1:1:${x}:${y}`, 'rgb24'))];
const hexRgb = (hex: string): number[] => [1, 3, 5].map((i) => parseInt(hex.slice(i + 1, i + 3), 16));
const near = (a: number[], b: number[], tolerance = 10): boolean => a.every((v, i) => Math.abs(v - b[i]) <= tolerance);

/** How many pixels of row `y` of the first frame differ from the row's right-most (background) pixel. */
async function drawnWidth(name: string, width: number, y: number): Promise<{ count: number; edges: boolean }> {
  const row = await pixels(name, 0, `crop=${width}:1:0:${y}`, 'gray');
  const bg = row[row.length - 1];
  const differs = (v: number): boolean => Math.abs(v - bg) > 12;
  return { count: row.filter(differs).length, edges: differs(row[0]) || differs(row[1]) || differs(row[width - 2]) };
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelay-render-test-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('renderSimulatedVideo', () => {
  it('renders a realistic 1280×720, 5 s, 24 fps video with audio exactly as planned', async () => {
    await render('hd.mp4', { width: 1280, height: 720, seconds: 5, audio: true });
    const probe = await probeMedia(file('hd.mp4'));
    expect(probe.container).toContain('mp4');
    expect(probe.video).toEqual({ codec: 'h264', width: 1280, height: 720, fps: 24, frames: 120, pixelFormat: 'yuv420p' });
    expect(Math.abs(probe.durationSeconds - 5)).toBeLessThanOrEqual(1 / 24);
    expect(probe.audio).toEqual({ codec: 'aac', sampleRate: 48000, channels: 2 });
    // +faststart: the index comes before the media data, so players start before the download ends.
    const head = fs.readFileSync(file('hd.mp4')).subarray(0, 64 * 1024).toString('latin1');
    expect(head.indexOf('moov')).toBeGreaterThan(0);
    expect(head.indexOf('moov')).toBeLessThan(head.indexOf('mdat'));
  });

  it('has no audio track unless asked', async () => {
    await render('silent.mp4', { width: 320, height: 180, seconds: 1 });
    const probe = await probeMedia(file('silent.mp4'));
    expect(probe.audio).toBeUndefined();
    expect(probe.video?.frames).toBe(24);
  });

  it.each([
    [720, 1280],
    [624, 624],
    [1088, 832],
    [960, 540],
  ])('renders exactly %i×%i', async (width, height) => {
    const name = `size-${width}x${height}.mp4`;
    await render(name, { width, height, seconds: 0.5, audio: true });
    const probe = await probeMedia(file(name));
    expect(probe.video).toMatchObject({ codec: 'h264', pixelFormat: 'yuv420p', width, height, fps: 24, frames: 12 });
    expect(Math.abs(probe.durationSeconds - 0.5)).toBeLessThanOrEqual(1 / 24);
  });

  it('rounds a fractional length to whole frames (an EDIT source of 0.7 s → 17 frames)', async () => {
    await render('fraction.mp4', { width: 256, height: 144, seconds: 0.7, audio: true });
    const probe = await probeMedia(file('fraction.mp4'));
    expect(probe.video?.frames).toBe(17);
    expect(Math.abs(probe.durationSeconds - 17 / 24)).toBeLessThanOrEqual(1 / 24);
  });

  it('gives identical bytes for identical options, and different bytes for another seed', async () => {
    const o = { width: 320, height: 180, seconds: 1, audio: true };
    await render('same-a.mp4', o);
    await render('same-b.mp4', o);
    await render('other-seed.mp4', { ...o, seed: 8 });
    expect(sha('same-a.mp4')).toBe(sha('same-b.mp4'));
    expect(sha('other-seed.mp4')).not.toBe(sha('same-a.mp4'));
  });

  it('moves: later frames differ from the first', async () => {
    await render('moving.mp4', { width: 320, height: 180, seconds: 1 });
    const first = await pixels('moving.mp4', 0, 'scale=320:180', 'gray');
    const later = await pixels('moving.mp4', 12, 'scale=320:180', 'gray');
    expect(first.equals(later)).toBe(false);
  });

  it('paints the background colour derived from prompt, seed and index', async () => {
    await render('colour.mp4', { width: 320, height: 180, seconds: 0.25, index: 1, count: 2 });
    expect(near(await rgbAt('colour.mp4', 316, 3), hexRgb(backgroundColour(base.prompt, base.seed, 1)))).toBe(true);
  });

  it('renders awkward prompts', async () => {
    const prompts = [
      `She said "it's 100% done": C:\\path\\to\\file; [a], {b} = c`,
      'line one\nline two\r\nline three\ttabbed\u0000nul\u0007bell',
      '%{localtime} %{eif:1/0:d} %{n} %% \\n \\\\ \'\'\' """',
      'emoji 🎬🐈‍⬛👩‍👩‍👧 日本語のプロンプト عربى עברית é́ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢',
      '',
      '   \n\n  ',
      'x'.repeat(3000),
      'a long prompt '.repeat(400),
      '-i /etc/passwd -f null - ; $(rm -rf /) `id`',
    ];
    await Promise.all(prompts.map((prompt, i) => render(`awkward-${i}.mp4`, { width: 256, height: 144, seconds: 0.25, prompt })));
    for (const i of prompts.keys()) expect((await probeMedia(file(`awkward-${i}.mp4`))).video?.frames).toBe(6);
  });

  it('draws the prompt literally (no %{…} expansion)', async () => {
    await render('literal.mp4', { width: 640, height: 360, seconds: 0.1, prompt: '%{n}' });
    await render('zero.mp4', { width: 640, height: 360, seconds: 0.1, prompt: '0' });
    const literal = await drawnWidth('literal.mp4', 640, 180);
    const zero = await drawnWidth('zero.mp4', 640, 180);
    expect(zero.count).toBeGreaterThan(10);
    expect(literal.count).toBeGreaterThan(zero.count * 2);
  });

  it.each([
    ['capitals', 'WMWMWMWM '.repeat(60)],
    ['one long word', 'm'.repeat(400)],
    ['CJK', '日本語の長いプロンプト'.repeat(30)],
  ])('wraps %s inside the frame', async (label, prompt) => {
    const name = `wrap-${label.replace(/\W/g, '')}.mp4`;
    await render(name, { width: 640, height: 360, seconds: 0.1, prompt });
    const row = await drawnWidth(name, 640, 180);
    expect(row.count).toBeGreaterThan(300);
    expect(row.edges).toBe(false);
  });

  it('fits an input image inside the frame over the background (image-to-video)', async () => {
    await runFfmpeg(['-f', 'lavfi', '-i', 'color=c=red:s=200x100', '-frames:v', '1', '-y', `file:${file('red.png')}`]);
    // The simulator hands over a downloaded image with no extension.
    fs.copyFileSync(file('red.png'), file('input-image'));
    await render('i2v.mp4', { width: 320, height: 320, seconds: 0.5, audio: true, inputImagePath: file('input-image') });
    const probe = await probeMedia(file('i2v.mp4'));
    expect(probe.video).toMatchObject({ width: 320, height: 320, frames: 12 });
    // The 2:1 image spans the width, centred: rows 80–240 are red, the band above is the background.
    expect(near(await rgbAt('i2v.mp4', 3, 160), [255, 0, 0], 30)).toBe(true);
    expect(near(await rgbAt('i2v.mp4', 316, 30), hexRgb(backgroundColour(base.prompt, base.seed, 0)))).toBe(true);
  });

  it('replaces an existing file and leaves no temporary files', async () => {
    fs.writeFileSync(file('replace.mp4'), 'old contents');
    await render('replace.mp4', { width: 256, height: 144, seconds: 0.25 });
    expect((await probeMedia(file('replace.mp4'))).video?.width).toBe(256);
    expect(fs.readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('stops on abort without leaving a partial file', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const rendering = render('aborted.mp4', { width: 1280, height: 720, seconds: 60, audio: true, signal: controller.signal });
    setTimeout(() => controller.abort(new Error('cancelled')), 300);
    await expect(rendering).rejects.toThrow('cancelled');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(fs.existsSync(file('aborted.mp4'))).toBe(false);
    expect(fs.readdirSync(dir).filter((n) => n.includes('aborted'))).toEqual([]);
  });

  it('refuses impossible options before starting ffmpeg', async () => {
    await expect(render('odd.mp4', { width: 321, height: 180, seconds: 1 })).rejects.toThrow(RangeError);
    await expect(render('zero.mp4', { width: 320, height: 180, seconds: 0 })).rejects.toThrow(RangeError);
    await expect(render('index.mp4', { width: 320, height: 180, seconds: 1, index: 2, count: 2 })).rejects.toThrow(RangeError);
  });

  it('fails with ffmpeg’s reason when the input image is unreadable', async () => {
    fs.writeFileSync(file('not-an-image'), 'plain text, not pixels');
    await expect(render('bad-input.mp4', { width: 320, height: 180, seconds: 0.5, inputImagePath: file('not-an-image') })).rejects.toThrow(
      /ffmpeg exited with \d+:\n.*not-an-image/s,
    );
    expect(fs.existsSync(file('bad-input.mp4'))).toBe(false);
  });

  it('works, deterministically, with the static ffmpeg from npm (what a fresh clone has)', async () => {
    const npmFfmpeg = (createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as { path: string }).path;
    const saved = process.env.REELAY_FFMPEG;
    process.env.REELAY_FFMPEG = npmFfmpeg;
    try {
      const o = { width: 320, height: 180, seconds: 1, audio: true, inputImagePath: file('red.png') };
      await render('npm-a.mp4', o);
      await render('npm-b.mp4', o);
    } finally {
      if (saved === undefined) delete process.env.REELAY_FFMPEG;
      else process.env.REELAY_FFMPEG = saved;
    }
    const probe = await probeMedia(file('npm-a.mp4'));
    expect(probe.video).toMatchObject({ codec: 'h264', width: 320, height: 180, frames: 24, pixelFormat: 'yuv420p' });
    expect(probe.audio?.codec).toBe('aac');
    expect(sha('npm-a.mp4')).toBe(sha('npm-b.mp4'));
  });
});

describe('picture and tone helpers', () => {
  it('derives a stable colour per (prompt, seed, index)', () => {
    const c = backgroundColour('p', 1, 0);
    expect(c).toMatch(/^0x[0-9a-f]{6}$/);
    expect(backgroundColour('p', 1, 0)).toBe(c);
    expect(new Set([c, backgroundColour('p', 2, 0), backgroundColour('p', 1, 1), backgroundColour('q', 1, 0)]).size).toBe(4);
  });

  it('derives a tone of 220–880 Hz from the seed', () => {
    const tones = [0, 1, 2, 3, -5, 2 ** 31].map(toneHz);
    for (const hz of tones) expect(hz >= 220 && hz <= 880).toBe(true);
    expect(new Set(tones).size).toBeGreaterThan(3);
    expect(toneHz(42)).toBe(toneHz(42));
  });

  it('wraps words, keeps newlines and splits only over-long words, between graphemes', () => {
    expect(wrapText('one two three four', 5)).toEqual(['one two', 'three', 'four']);
    expect(wrapText('a\n\nb', 10)).toEqual(['a', '', 'b']);
    const family = '👩‍👩‍👧';
    const lines = wrapText(`go ${family.repeat(6)}`, 4);
    expect(lines.join('').replace(/ /g, '')).toBe(`go${family.repeat(6)}`);
    for (const line of lines) expect(line.replaceAll(family, '').replace(/^go ?/, '')).toBe('');
  });
});
