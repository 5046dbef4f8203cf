/**
 * Output planning (src/models/output.ts): what each request yields — width × height, fps, seconds, audio,
 * number of videos — as the seeds and contract section 6 say. Sizes are typed in by hand.
 */
import { describe, expect, it } from 'vitest';
import { findModel } from '../../src/models/registry.ts';
import { billedSeconds, planOutput, type InputFacts, type OutputPlan } from '../../src/models/output.ts';
import { validate } from './helpers.ts';

function plan(body: Record<string, unknown>, facts?: InputFacts): OutputPlan {
  const req = validate(body);
  return planOutput(findModel(req.model)!, req, facts);
}
const size = (p: OutputPlan): string => `${p.width}x${p.height}`;

describe('wan2.5-preview: the seed table of sizes (text-to-video)', () => {
  // "Resolution and Aspect Ratio Combinations", copied from the seed.
  const TABLE: [string, string, string][] = [
    ['16:9', '480p', '832x480'], ['16:9', '720p', '1280x720'], ['16:9', '1080p', '1920x1080'],
    ['9:16', '480p', '480x832'], ['9:16', '720p', '720x1280'], ['9:16', '1080p', '1080x1920'],
    ['1:1', '480p', '624x624'], ['1:1', '720p', '960x960'], ['1:1', '1080p', '1440x1440'],
    ['4:3', '720p', '1088x832'], ['4:3', '1080p', '1632x1248'],
    ['3:4', '720p', '832x1088'], ['3:4', '1080p', '1248x1632'],
  ];
  it.each(TABLE)('%s at %s → %s', (aspect, resolution, expected) => {
    expect(size(plan({ model: 'wan2.5-preview', prompt: 'p', size: aspect, resolution }))).toBe(expected);
  });
  it('defaults (720p, 16:9) → 1280x720, 5 s, 24 fps, with audio, one video', () => {
    expect(plan({ model: 'wan2.5-preview', prompt: 'p' })).toEqual({ width: 1280, height: 720, fps: 24, seconds: 5, audio: true, count: 1 });
  });
  it('duration 10 → 10 s', () => {
    expect(plan({ model: 'wan2.5-preview', prompt: 'p', duration: 10 }).seconds).toBe(10);
  });
});

describe('wan2.5-preview image-to-video: the aspect follows the image', () => {
  const i2v = (resolution: string) => ({ model: 'wan2.5-preview', image_urls: ['https://example.com/a.png'], resolution });
  it('without facts about the image: the default 16:9 entry', () => {
    expect(size(plan(i2v('720p')))).toBe('1280x720');
    expect(size(plan(i2v('480p')))).toBe('832x480');
  });
  it.each([
    [1080, 1920, '720p', '720x1280'],
    [1000, 1000, '1080p', '1440x1440'],
    [1600, 1200, '720p', '1088x832'],
    [1200, 1600, '1080p', '1248x1632'],
    [3840, 2160, '480p', '832x480'],
  ])('a %ix%i image at %s takes the table entry of its aspect: %s', (width, height, resolution, expected) => {
    expect(size(plan(i2v(resolution), { width, height }))).toBe(expected);
  });
  // Aspects the table lacks keep the area of the resolution's 16:9 entry, on a grid of 8 (computed by hand:
  // e.g. 720p, 5:4 → area 921600, w = √(921600·1.25) = 1073.3 → 1072, h = 921600 / 1073.3 = 858.6 → 856).
  it.each([
    [1000, 800, '720p', 1072, 856],
    [1000, 800, '1080p', 1608, 1288],
    [1600, 1200, '480p', 728, 544], // 480p has no 4:3 entry
    [1000, 2500, '720p', 608, 1520],
  ])('a %ix%i image at %s → %ix%i', (width, height, resolution, w, h) => {
    const p = plan(i2v(resolution), { width, height });
    expect([p.width, p.height]).toEqual([w, h]);
  });
  it.each([
    ['480p', 832 * 480],
    ['720p', 1280 * 720],
    ['1080p', 1920 * 1080],
  ])('the area-keeping rule at %s: same area (±2%%), same aspect (±2%%), multiples of 8', (resolution, area) => {
    for (const [width, height] of [[1000, 800], [800, 1000], [2000, 1000], [1000, 2000], [1234, 987], [700, 1100]]) {
      const p = plan(i2v(resolution), { width, height });
      expect(p.width % 8).toBe(0);
      expect(p.height % 8).toBe(0);
      expect(Math.abs(p.width * p.height - area) / area).toBeLessThan(0.02);
      expect(Math.abs(p.width / p.height - width / height) / (width / height)).toBeLessThan(0.02);
    }
  });
  it('in text-to-video, facts about an image do not matter (there is none)', () => {
    expect(size(plan({ model: 'wan2.5-preview', prompt: 'p', size: '1:1' }, { width: 1000, height: 3000 }))).toBe('960x960');
  });
});

describe('short side = the resolution number, long side from the aspect', () => {
  // Typed in: short side per resolution, and the long side for each aspect.
  const expected = (short: number, aspect: string): string => {
    const [w, h] = aspect.split(':').map(Number);
    const long = Math.round((short * Math.max(w, h)) / Math.min(w, h));
    return w >= h ? `${long}x${short}` : `${short}x${long}`;
  };
  const cases: [string, Record<string, unknown>, string, number, string[]][] = [
    ['happyhorse-1.0', { prompt: 'p' }, '720P', 720, ['16:9', '9:16', '1:1', '4:3', '3:4']],
    ['happyhorse-1.0', { prompt: 'p' }, '1080P', 1080, ['16:9', '9:16', '1:1', '4:3', '3:4']],
    ['Omni-Flash-Ext', { prompt: 'p' }, '720p', 720, ['16:9', '9:16']],
    ['Omni-Flash-Ext', { prompt: 'p' }, '1080p', 1080, ['16:9', '9:16']],
    ['Omni-Flash-Ext', { prompt: 'p' }, '4k', 2160, ['16:9', '9:16']],
    ['viduq3', { prompt: 'p', image_urls: ['https://example.com/a.png'] }, '540p', 540, ['16:9', '9:16', '4:3', '3:4', '1:1']],
    ['viduq3', { prompt: 'p', image_urls: ['https://example.com/a.png'] }, '720p', 720, ['16:9', '9:16', '4:3', '3:4', '1:1']],
    ['viduq3-mix', { prompt: 'p', image_urls: ['https://example.com/a.png'] }, '1080p', 1080, ['16:9', '9:16', '4:3', '3:4', '1:1']],
    ['veo3.1-fast-official', { prompt: 'p' }, '720p', 720, ['16:9', '9:16']],
    ['veo3.1-quality-official', { prompt: 'p' }, '1080p', 1080, ['16:9', '9:16']],
    ['veo3.1-fast-official', { prompt: 'p' }, '4K', 2160, ['16:9', '9:16']],
  ];
  const aspectField = (model: string) => (model === 'happyhorse-1.0' ? 'size' : 'aspect_ratio');
  it.each(cases.flatMap(([model, base, res, short, aspects]) => aspects.map((a) => [model, res, a, expected(short, a), base] as const)))(
    '%s %s %s → %s',
    (model, resolution, aspect, want, base) => {
      expect(size(plan({ model, ...base, resolution, [aspectField(model)]: aspect }))).toBe(want);
    },
  );
  it.each([
    ['viduq3', '540p', '16:9', '960x540'],
    ['veo3.1-fast-official', '4K', '16:9', '3840x2160'],
    ['veo3.1-fast-official', '4K', '9:16', '2160x3840'],
    ['Omni-Flash-Ext', '4k', '16:9', '3840x2160'],
    ['happyhorse-1.0', '1080P', '4:3', '1440x1080'],
    ['happyhorse-1.0', '720P', '3:4', '720x960'],
  ])('spot check by hand: %s %s %s → %s', (model, resolution, aspect, want) => {
    const base = model.startsWith('vidu') ? { image_urls: ['https://example.com/a.png'] } : {};
    expect(size(plan({ model, prompt: 'p', ...base, resolution, [aspectField(model)]: aspect }))).toBe(want);
  });
  it('defaults: happyhorse 1920x1080, Omni 1280x720, vidu 1280x720, veo 1280x720', () => {
    expect(size(plan({ model: 'happyhorse-1.0', prompt: 'p' }))).toBe('1920x1080');
    expect(size(plan({ model: 'Omni-Flash-Ext', prompt: 'p' }))).toBe('1280x720');
    expect(size(plan({ model: 'viduq3', prompt: 'p', image_urls: ['https://example.com/a.png'] }))).toBe('1280x720');
    expect(size(plan({ model: 'veo3.1-fast-official', prompt: 'p' }))).toBe('1280x720');
  });
  it('Omni size alias decides the output like aspect_ratio', () => {
    expect(size(plan({ model: 'Omni-Flash-Ext', prompt: 'p', size: '9:16', resolution: '1080p' }))).toBe('1080x1920');
  });
});

describe('happyhorse-1.0: I2V and EDIT take the aspect of the input media', () => {
  const first = 'https://example.com/f.png';
  const video = 'https://example.com/v.mp4';
  it('I2V without facts: the default 16:9, whatever size says (size is ignored in I2V)', () => {
    expect(size(plan({ model: 'happyhorse-1.0', first_frame_image: first, size: '9:16' }))).toBe('1920x1080');
  });
  it.each([
    [{ first_frame_image: first }, 1080, 1920, '1080P', '1080x1920'],
    [{ first_frame_image: first }, 1000, 1000, '720P', '720x720'],
    [{ first_frame_image: first }, 3000, 2000, '1080P', '1620x1080'],
    [{ first_frame_image: first }, 1000, 2500, '1080P', '1080x2700'],
    [{ prompt: 'p', video_url: video }, 1920, 1080, '720P', '1280x720'],
    [{ prompt: 'p', video_url: video }, 720, 1280, '1080P', '1080x1920'],
  ])('%j, input %ix%i at %s → %s', (media, width, height, resolution, want) => {
    expect(size(plan({ model: 'happyhorse-1.0', ...media, resolution }, { width, height }))).toBe(want);
  });
  it('T2V and R2V ignore input facts: size decides', () => {
    expect(size(plan({ model: 'happyhorse-1.0', prompt: 'p', size: '1:1' }, { width: 1920, height: 1080 }))).toBe('1080x1080');
    expect(size(plan({ model: 'happyhorse-1.0', prompt: 'p', image_urls: [first], size: '9:16' }, { width: 1920, height: 1080 }))).toBe('1080x1920');
  });
});

describe('seconds', () => {
  const edit = { model: 'happyhorse-1.0', prompt: 'p', video_url: 'https://example.com/v.mp4' };
  it.each([
    [3, 3],
    [8, 8],
    [15, 15],
    [15.5, 15],
    [20, 15],
    [60, 15],
  ])('EDIT with a %s s source → %s s (the source, capped at 15)', (source, want) => {
    expect(plan(edit, { sourceSeconds: source }).seconds).toBe(want);
  });
  it('EDIT with an unknown source length → the cap, 15 s (the most it can cost)', () => {
    expect(plan(edit).seconds).toBe(15);
    expect(billedSeconds(findModel('happyhorse-1.0')!, validate(edit))).toBe(15);
  });
  it('EDIT ignores duration', () => {
    expect(plan({ ...edit, duration: 4 }, { sourceSeconds: 9 }).seconds).toBe(9);
  });
  it.each([
    ['happyhorse-1.0', { prompt: 'p' }, 5, [3, 15]],
    ['Omni-Flash-Ext', { prompt: 'p' }, 6, [4, 10]],
    ['viduq3', { prompt: 'p', image_urls: ['https://example.com/a.png'] }, 5, [3, 16]],
    ['viduq3-mix', { prompt: 'p', image_urls: ['https://example.com/a.png'] }, 5, [1, 16]],
    ['veo3.1-fast-official', { prompt: 'p' }, 8, [4, 8]],
  ] as const)('%s: the default duration, and the given one otherwise', (model, base, def, given) => {
    expect(plan({ model, ...base }).seconds).toBe(def);
    for (const d of given) expect(plan({ model, ...base, duration: d }).seconds).toBe(d);
  });
  it('I2V in happyhorse uses duration, not facts', () => {
    expect(plan({ model: 'happyhorse-1.0', first_frame_image: 'https://example.com/f.png', duration: 7 }, { sourceSeconds: 12 }).seconds).toBe(7);
  });
});

describe('audio, count, fps', () => {
  it('veo: count = sample_count, audio = generate_audio (default off), billed seconds = seconds × count', () => {
    const veo = findModel('veo3.1-fast-official')!;
    for (const n of [1, 2, 3, 4]) {
      const req = validate({ model: 'veo3.1-fast-official', prompt: 'p', sample_count: n, duration: 6 });
      expect(planOutput(veo, req).count).toBe(n);
      expect(billedSeconds(veo, req)).toBe(6 * n);
    }
    expect(plan({ model: 'veo3.1-fast-official', prompt: 'p' }).audio).toBe(false);
    expect(plan({ model: 'veo3.1-quality-official', prompt: 'p', generate_audio: true }).audio).toBe(true);
    expect(plan({ model: 'veo3.1-quality-official', prompt: 'p', generate_audio: false }).audio).toBe(false);
  });
  it('wan2.5 and happyhorse always have audio (wan2.5 only supports audio=true; happyhorse generates or keeps it)', () => {
    expect(plan({ model: 'wan2.5-preview', prompt: 'p' }).audio).toBe(true);
    expect(plan({ model: 'wan2.5-preview', image_urls: ['https://example.com/a.png'] }).audio).toBe(true);
    expect(plan({ model: 'happyhorse-1.0', prompt: 'p' }).audio).toBe(true);
    expect(plan({ model: 'happyhorse-1.0', prompt: 'p', video_url: 'https://example.com/v.mp4', audio_setting: 'origin' }).audio).toBe(true);
  });
  it('one video per request except veo sample_count; 24 fps everywhere', () => {
    const bodies = [
      { model: 'happyhorse-1.0', prompt: 'p' },
      { model: 'wan2.5-preview', prompt: 'p' },
      { model: 'Omni-Flash-Ext', prompt: 'p', image_urls: ['https://example.com/a.png'] },
      { model: 'viduq3', prompt: 'p', image_urls: ['https://example.com/a.png'] },
      { model: 'viduq3-mix', prompt: 'p', image_urls: ['https://example.com/a.png'] },
      { model: 'veo3.1-fast-official', prompt: 'p' },
      { model: 'veo3.1-quality-official', prompt: 'p', first_frame_image: 'https://example.com/a.png' },
    ];
    for (const b of bodies) {
      const p = plan(b);
      expect(p.fps, b.model).toBe(24);
      expect(p.count, b.model).toBe(1);
    }
  });
  it('width and height are always even (H.264 needs it)', () => {
    for (const [width, height] of [[1001, 999], [333, 777], [1919, 1081]]) {
      const p = plan({ model: 'happyhorse-1.0', first_frame_image: 'https://example.com/f.png', resolution: '720P' }, { width, height });
      expect(p.width % 2).toBe(0);
      expect(p.height % 2).toBe(0);
      expect(Math.min(p.width, p.height)).toBe(720);
    }
  });
});

describe('wan2.5-preview image-to-video: an input with a table size’s own shape', () => {
  it('a 1088x832 image at 720p keeps 1088x832 (not the area rule)', async () => {
    const { planOutput } = await import('../../src/models/output.ts');
    const { findModel } = await import('../../src/models/registry.ts');
    const { validateRequest } = await import('../../src/models/validate.ts');
    const spec = findModel('wan2.5-preview')!;
    const req = validateRequest({ model: 'wan2.5-preview', image_urls: ['https://e.com/a.png'] });
    expect(planOutput(spec, req, { width: 1088, height: 832 })).toMatchObject({ width: 1088, height: 832 });
  });
});
