/**
 * Broken rules over HTTP: a representative rule of each kind for each model answers the documented
 * status/code/type/param (contract §3), and a refused request charges nothing and creates no task.
 * Every boundary of every rule is covered at the function level in test/models; this suite checks the wire.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { balanceOf, expectError, taskIds } from './helpers.ts';

const IMG = (i: number) => `https://example.com/img_${i}.png`;
const imgs = (n: number) => Array.from({ length: n }, (_, i) => IMG(i));

interface Case {
  model: string;
  body: Record<string, unknown>;
  code: string;
  param: string | null;
  /** The message names what was wrong and what the model allows. */
  mentions: string[];
}

const CASES: Case[] = [
  // invalid_duration
  { model: 'happyhorse-1.0', body: { prompt: 'p', duration: 16 }, code: 'invalid_duration', param: 'duration', mentions: ['16', '3', '15'] },
  { model: 'wan2.5-preview', body: { prompt: 'p', duration: 7 }, code: 'invalid_duration', param: 'duration', mentions: ['7', '5', '10'] },
  { model: 'Omni-Flash-Ext', body: { prompt: 'p', duration: 5 }, code: 'invalid_duration', param: 'duration', mentions: ['5', '4', '6', '8', '10'] },
  { model: 'viduq3', body: { prompt: 'p', image_urls: imgs(1), duration: 2 }, code: 'invalid_duration', param: 'duration', mentions: ['2', '3', '16'] },
  { model: 'viduq3-mix', body: { prompt: 'p', image_urls: imgs(1), duration: 17 }, code: 'invalid_duration', param: 'duration', mentions: ['17', '1', '16'] },
  { model: 'veo3.1-fast-official', body: { prompt: 'p', duration: 5 }, code: 'invalid_duration', param: 'duration', mentions: ['5', '4', '6', '8'] },
  { model: 'veo3.1-quality-official', body: { prompt: 'p', duration: 10 }, code: 'invalid_duration', param: 'duration', mentions: ['10', '4', '6', '8'] },
  // invalid_resolution
  { model: 'happyhorse-1.0', body: { prompt: 'p', resolution: '480P' }, code: 'invalid_resolution', param: 'resolution', mentions: ['480P', '720P', '1080P'] },
  { model: 'wan2.5-preview', body: { prompt: 'p', resolution: '4k' }, code: 'invalid_resolution', param: 'resolution', mentions: ['4k', '480p', '720p', '1080p'] },
  { model: 'Omni-Flash-Ext', body: { prompt: 'p', resolution: '480p' }, code: 'invalid_resolution', param: 'resolution', mentions: ['480p', '720p', '1080p', '4k'] },
  { model: 'viduq3', body: { prompt: 'p', image_urls: imgs(1), resolution: '4k' }, code: 'invalid_resolution', param: 'resolution', mentions: ['540p', '720p', '1080p'] },
  // viduq3-mix does not take 540p, though viduq3 does
  { model: 'viduq3-mix', body: { prompt: 'p', image_urls: imgs(1), resolution: '540p' }, code: 'invalid_resolution', param: 'resolution', mentions: ['540p', '720p', '1080p'] },
  { model: 'veo3.1-fast-official', body: { prompt: 'p', resolution: '2K' }, code: 'invalid_resolution', param: 'resolution', mentions: ['2K', '720p', '1080p', '4K'] },
  { model: 'veo3.1-quality-official', body: { prompt: 'p', resolution: '540p' }, code: 'invalid_resolution', param: 'resolution', mentions: ['540p', '4K'] },
  // unsupported_image_count
  { model: 'happyhorse-1.0', body: { prompt: 'p', image_urls: imgs(10) }, code: 'unsupported_image_count', param: 'image_urls', mentions: ['10', '9'] },
  { model: 'happyhorse-1.0', body: { prompt: 'p', video_url: 'https://example.com/v.mp4', image_urls: imgs(6) }, code: 'unsupported_image_count', param: 'image_urls', mentions: ['6', '5'] },
  { model: 'wan2.5-preview', body: { prompt: 'p', image_urls: imgs(2) }, code: 'unsupported_image_count', param: 'image_urls', mentions: ['2', '1'] },
  { model: 'Omni-Flash-Ext', body: { prompt: 'p', image_urls: imgs(2) }, code: 'unsupported_image_count', param: 'image_urls', mentions: ['2', '3'] },
  { model: 'viduq3', body: { prompt: 'p', image_urls: imgs(8) }, code: 'unsupported_image_count', param: 'image_urls', mentions: ['8', '7'] },
  { model: 'viduq3-mix', body: { prompt: 'p' }, code: 'unsupported_image_count', param: 'image_urls', mentions: ['1', '7'] },
  // mixed_media_not_allowed and audio_setting_only_for_edit (happyhorse's own rules)
  { model: 'happyhorse-1.0', body: { prompt: 'p', first_frame_image: IMG(0), image_urls: imgs(1) }, code: 'mixed_media_not_allowed', param: 'image_urls', mentions: ['first_frame_image', 'image_urls'] },
  { model: 'happyhorse-1.0', body: { prompt: 'p', first_frame_image: IMG(0), video_url: 'https://example.com/v.mp4' }, code: 'mixed_media_not_allowed', param: 'video_url', mentions: ['first_frame_image', 'video_url'] },
  { model: 'happyhorse-1.0', body: { prompt: 'p', audio_setting: 'origin' }, code: 'audio_setting_only_for_edit', param: 'audio_setting', mentions: ['video edit'] },
  { model: 'happyhorse-1.0', body: { prompt: 'p', first_frame_image: IMG(0), audio_setting: 'auto' }, code: 'audio_setting_only_for_edit', param: 'audio_setting', mentions: ['video edit'] },
  // invalid_request_error: an empty prompt, for every model
  ...['happyhorse-1.0', 'wan2.5-preview', 'Omni-Flash-Ext', 'veo3.1-fast-official', 'veo3.1-quality-official'].map(
    (model): Case => ({ model, body: { prompt: '  ' }, code: 'invalid_request_error', param: 'prompt', mentions: ['prompt'] }),
  ),
  ...['viduq3', 'viduq3-mix'].map((model): Case => ({ model, body: { prompt: '', image_urls: imgs(1) }, code: 'invalid_request_error', param: 'prompt', mentions: ['prompt'] })),
  // other mistakes: invalid_request_error type with a specific code (contract §3's own example, wan2.5 size in I2V)
  { model: 'wan2.5-preview', body: { prompt: 'p', image_urls: imgs(1), size: '16:9' }, code: 'unsupported_field_for_mode', param: 'size', mentions: ['size'] },
  { model: 'veo3.1-fast-official', body: { prompt: 'p', enhance_prompt: false }, code: 'invalid_value', param: 'enhance_prompt', mentions: ['enhance_prompt'] },
  // veo's "must be a pure number ... otherwise an error": a quoted duration is the seed's invalid_duration
  { model: 'veo3.1-fast-official', body: { prompt: 'p', duration: '8' }, code: 'invalid_duration', param: 'duration', mentions: ['4, 6, 8'] },
  { model: 'happyhorse-1.0', body: { prompt: 'p', watermark: 'no' }, code: 'invalid_type', param: 'watermark', mentions: ['watermark'] },
];

let t: TestGateway;
let key: string;
let other: string;
let otherId: string;

beforeAll(async () => {
  t = await startTestGateway();
  key = (await t.newKey(50)).key;
  ({ key: other, id: otherId } = await t.newKey(50));
});
afterAll(async () => t?.close());

describe('a broken rule answers the documented error', () => {
  it.each(CASES.map((c) => [c.model, c.code, c.param, c] as const))('%s: %s (param %s)', async (_m, _c, _p, c) => {
    const r = await t.call(key, 'POST', '/v1/videos/generations', { model: c.model, ...c.body });
    expectError(r, 400, c.code, c.param);
    for (const m of c.mentions) expect(r.body.error.message).toContain(m);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
  });
});

describe('invalid_request_error for the body and the model', () => {
  const raw = async (body: string, contentType = 'application/json') => {
    const res = await fetch(`${t.url}/v1/videos/generations`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': contentType }, body });
    return { status: res.status, body: await res.json(), headers: res.headers };
  };

  it.each([
    ['truncated JSON', '{"model": "happyhorse-1.0", "prompt": "p"'],
    ['not JSON at all', 'model=happyhorse-1.0&prompt=p'],
    ['a trailing comma', '{"model": "happyhorse-1.0", "prompt": "p",}'],
  ])('%s → 400 invalid_request_error, param null', async (_name, body) => {
    expectError(await raw(body), 400, 'invalid_request_error', null);
  });

  it('curl --data without a JSON content type is still read as JSON (the seeds send it that way)', async () => {
    const r = await raw(JSON.stringify({ model: 'Omni-Flash-Ext', prompt: 'p', duration: 7 }), 'application/x-www-form-urlencoded');
    expectError(r, 400, 'invalid_duration', 'duration');
  });

  it.each([
    ['a JSON array', '[]'],
    ['a JSON string', '"happyhorse-1.0"'],
    ['null', 'null'],
    ['an empty body', ''],
  ])('%s is not a request object → invalid_request_error', async (_name, body) => {
    expectError(await raw(body), 400, 'invalid_request_error', null);
  });

  it.each([
    ['an unknown model', { model: 'sora-2', prompt: 'p' }],
    ['no model', { prompt: 'p' }],
    ['an empty model', { model: '', prompt: 'p' }],
    ['a model that is not a string', { model: 7, prompt: 'p' }],
  ])('%s → invalid_request_error on model, naming the served models', async (_name, body) => {
    const r = await t.call(key, 'POST', '/v1/videos/generations', body);
    expectError(r, 400, 'invalid_request_error', 'model');
    for (const id of ['happyhorse-1.0', 'wan2.5-preview', 'Omni-Flash-Ext', 'viduq3', 'viduq3-mix', 'veo3.1-fast-official', 'veo3.1-quality-official']) {
      expect(r.body.error.message).toContain(id);
    }
  });
});

describe('nothing is charged or created on a refusal', () => {
  it('after every kind of 400 above, the balance and the task list are exactly as before', async () => {
    const before = { balance: await balanceOf(t, other), tasks: await taskIds(t, other) };
    for (const c of CASES) {
      const r = await t.call(other, 'POST', '/v1/videos/generations', { model: c.model, ...c.body });
      expect(r.status).toBe(400);
    }
    const bad = await t.call(other, 'POST', '/v1/videos/generations', '{"model": ');
    expect(bad.status).toBe(400);
    expect(await balanceOf(t, other)).toEqual(before.balance);
    expect(await taskIds(t, other)).toEqual(before.tasks);
    expect(before.tasks).toEqual([]);
    // Ledger rows are the money's own record: none refers to a task.
    const ledger = await t.admin('GET', `/admin/keys/${otherId}/ledger`);
    expect(ledger.status).toBe(200);
    expect(ledger.body.data.filter((e: any) => e.task_id !== null)).toEqual([]);
  });

  it('402 payment_required when the balance is below the price, and then too nothing moves', async () => {
    const poor = await t.newKey(0.5);
    // happyhorse 1080P × 5 s costs more than 0.5 at the shipped prices
    const r = await t.call(poor.key, 'POST', '/v1/videos/generations', { model: 'happyhorse-1.0', prompt: 'p' });
    expectError(r, 402, 'payment_required');
    expect(await balanceOf(t, poor.key)).toEqual({ remain: 0.5, used: 0, held: 0 });
    expect(await taskIds(t, poor.key)).toEqual([]);
    const ledger = await t.admin('GET', `/admin/keys/${poor.id}/ledger`);
    expect(ledger.body.data.every((e: any) => e.task_id === null)).toBe(true);
  });

  it('a refused base64 image is not left in storage', async () => {
    const r = await t.call(other, 'POST', '/v1/videos/generations', {
      model: 'happyhorse-1.0',
      prompt: 'p',
      // a valid data URI whose bytes are not an image
      first_frame_image: `data:image/png;base64,${Buffer.from('definitely not a png').toString('base64')}`,
    });
    expectError(r, 400, 'invalid_image', 'first_frame_image');
    const { readdirSync, existsSync } = await import('node:fs');
    const inputs = `${t.dataDir}/objects/inputs`;
    const files = existsSync(inputs) ? readdirSync(inputs, { recursive: true }).filter((f) => String(f).includes('.')) : [];
    expect(files).toEqual([]);
  });
});
