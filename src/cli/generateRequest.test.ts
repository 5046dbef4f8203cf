import { describe, expect, it } from 'vitest';
import { findModel } from '../models/registry.ts';
import { UsageError, mapImages, outputPaths, parseParam, videoField } from './generateRequest.ts';
import { formatSeconds, remainingText } from './progressView.ts';

const veo = findModel('veo3.1-fast-official')!;
const happyhorse = findModel('happyhorse-1.0')!;
const omni = findModel('Omni-Flash-Ext')!;

describe('parseParam', () => {
  it("parses by the field's type in the spec", () => {
    expect(parseParam(veo, 'duration=8')).toEqual({ key: 'duration', value: 8 });
    expect(parseParam(veo, 'generate_audio=false')).toEqual({ key: 'generate_audio', value: false });
    expect(parseParam(veo, 'generate_audio=YES')).toEqual({ key: 'generate_audio', value: true });
    expect(parseParam(veo, 'resolution=1080P')).toEqual({ key: 'resolution', value: '1080P' });
    expect(parseParam(veo, 'negative_prompt=a=b')).toEqual({ key: 'negative_prompt', value: 'a=b' });
    expect(parseParam(veo, 'seed=42')).toEqual({ key: 'seed', value: 42 });
    expect(parseParam(veo, 'last_frame_image=x.png')).toEqual({ key: 'last_frame_image', value: 'x.png', image: 'image' });
    expect(parseParam(omni, 'image_urls=x.png')).toEqual({ key: 'image_urls', value: 'x.png', image: 'images' });
  });

  it('refuses malformed input, unknown fields, and model', () => {
    expect(() => parseParam(veo, 'duration')).toThrow(UsageError);
    expect(() => parseParam(veo, '=8')).toThrow('expected key=value');
    expect(() => parseParam(veo, 'duration=8.5')).toThrow('expected an integer');
    expect(() => parseParam(veo, 'generate_audio=maybe')).toThrow('expected true or false');
    expect(() => parseParam(veo, 'size=16:9')).toThrow('has no field "size"');
    expect(() => parseParam(veo, 'model=x')).toThrow('use --model');
  });

  it('guesses JSON types for a model it does not know', () => {
    expect(parseParam(undefined, 'duration=8')).toEqual({ key: 'duration', value: 8 });
    expect(parseParam(undefined, 'audio=true')).toEqual({ key: 'audio', value: true });
    expect(parseParam(undefined, 'size=16:9')).toEqual({ key: 'size', value: '16:9' });
  });
});

describe('mapImages', () => {
  it('follows the spec: single-image fields first, the image list for more or with a video', () => {
    expect(mapImages(veo, ['a'], false)).toEqual({ first_frame_image: 'a' });
    expect(mapImages(veo, ['a', 'b'], false)).toEqual({ first_frame_image: 'a', last_frame_image: 'b' });
    expect(() => mapImages(veo, ['a', 'b', 'c'], false)).toThrow('at most 2 image(s): first_frame_image, last_frame_image');
    expect(mapImages(happyhorse, ['a'], false)).toEqual({ first_frame_image: 'a' });
    expect(mapImages(happyhorse, ['a', 'b'], false)).toEqual({ image_urls: ['a', 'b'] });
    expect(mapImages(happyhorse, ['a'], true)).toEqual({ image_urls: ['a'] });
    expect(mapImages(omni, ['a'], false)).toEqual({ image_urls: ['a'] });
    expect(mapImages(undefined, ['a'], false)).toEqual({ image_urls: ['a'] });
    expect(mapImages(veo, [], false)).toEqual({});
  });

  it('finds the source-video field', () => {
    expect(videoField(happyhorse)).toBe('video_url');
    expect(() => videoField(veo)).toThrow('takes no source video');
  });
});

describe('outputPaths', () => {
  it('numbers several videos before the extension', () => {
    expect(outputPaths('out.mp4', 1)).toEqual(['out.mp4']);
    expect(outputPaths('dir/out.mp4', 2)).toEqual(['dir/out-1.mp4', 'dir/out-2.mp4']);
    expect(outputPaths('a.b/out', 2)).toEqual(['a.b/out-1', 'a.b/out-2']);
    expect(outputPaths('.hidden', 2)).toEqual(['.hidden-1', '.hidden-2']);
  });
});

describe('remainingText', () => {
  const task = { id: 't', status: 'processing', progress: 10, created: 1000, estimated_time: 120, cost: 0 } as const;
  it("counts down from the task's own created + estimated_time", () => {
    expect(remainingText(task, 1000_000)).toBe('ETA 2m00s');
    expect(remainingText(task, 1_110_000)).toBe('ETA 10s');
    expect(remainingText(task, 1_200_000)).toBe('ETA any moment');
    expect(remainingText({ ...task, status: 'completed', actual_time: 240 }, 0)).toBe('took 4m00s');
    expect(remainingText({ ...task, status: 'cancelled' }, 0)).toBe('');
    expect(formatSeconds(3725)).toBe('1h02m');
  });
});
