/**
 * One declarative table per upstream DashScope model: which reelay model and mode it serves, and where
 * each APIMart field goes in `{model, input, parameters}`. dashscopeMapper.ts walks them.
 *
 * Sources (UPSTREAMS.md §2–3; details in the report):
 * - wan2.5: ComfyUI comfy_api_nodes/nodes_wan.py (t2v `parameters.size` "W*H"; i2v `input.img_url` +
 *   `parameters.resolution` "480P|720P|1080P"), confirmed by the PPIO and novita mirrors of the same bodies.
 * - happyhorse-1.0: Alibaba's official request JSON as copied into spring-ai-alibaba's video-model doc
 *   (t2v/i2v/r2v/video-edit, `input.media[{type,url}]`, `parameters.ratio`), the help.aliyun.com API
 *   references transcribed by cinience/alicloud-skills (i2v has no ratio; video-edit has no ratio/duration
 *   and takes `parameters.audio_setting`).
 * - vidu relay: the same spring-ai-alibaba doc (`vidu/viduq3-mix_reference2video`, media type `image`,
 *   `parameters.size` + `resolution`); the size table and `vidu/viduq3_reference2video` from a Bailian
 *   client's capability catalog; Beijing only per the Model Studio video model overview.
 */
import { wan25 } from '../../models/families/wan25.ts';
import type { Mode } from '../../models/spec.ts';
import { firstItem, pixelSize, upperCase, type FieldMapping, type UpstreamMapping } from './dashscopeMapper.ts';

export type ModelMapping = Partial<Record<Mode, UpstreamMapping>>;

/** wan2.5's "W*H" sizes are exactly the seed's table (wan2.5-preview.txt), which DashScope's t2v doc repeats. */
const WAN25_SIZES = (() => {
  const sizing = wan25.output.sizing;
  if (sizing.kind !== 'table') throw new Error('wan2.5 family must size its output by table');
  return sizing.table;
})();

/**
 * UNCERTAIN: the Vidu relay's size per resolution and aspect, from a third-party transcription of the
 * Bailian Vidu reference-to-video page (help.aliyun.com/zh/model-studio/vidu-reference-to-video-api-reference).
 */
const VIDU_SIZES: Record<string, Record<string, readonly [number, number]>> = {
  '540p': { '16:9': [1024, 576], '4:3': [1024, 768], '1:1': [1024, 1024], '3:4': [768, 1024], '9:16': [576, 1024] },
  '720p': { '16:9': [1280, 720], '4:3': [1280, 960], '1:1': [1280, 1280], '3:4': [960, 1280], '9:16': [720, 1280] },
  '1080p': { '16:9': [1920, 1080], '4:3': [1920, 1440], '1:1': [1808, 1808], '3:4': [1440, 1920], '9:16': [1080, 1920] },
};

const input = (from: string, as?: string, transform?: FieldMapping['transform']): FieldMapping => ({ from, to: 'input', as, transform });
const param = (from: string, as?: string, transform?: FieldMapping['transform']): FieldMapping => ({ from, to: 'parameters', as, transform });

// --- wan2.5-preview ---------------------------------------------------------------------------------------

const WAN25_SHARED = [
  input('prompt'),
  input('negative_prompt'),
  input('audio_url'),
  param('duration'),
  param('prompt_extend'),
  param('watermark'),
  param('seed'),
  // Auto-generated audio when no audio_url is given; APIMart only allows true for this model.
  param('audio'),
];

const WAN25: ModelMapping = {
  T2V: {
    family: 'wan2.5',
    modeSuffix: '-t2v-preview',
    fields: [...WAN25_SHARED, param('size', 'size', pixelSize(WAN25_SIZES, 'resolution'))],
    ignored: { resolution: 'text-to-video takes the pixel size, which already encodes the resolution tier' },
    source: 'ComfyUI nodes_wan.py Text2VideoParametersField; wan2.5-preview seed size table',
  },
  I2V: {
    family: 'wan2.5',
    modeSuffix: '-i2v-preview',
    // wan2.5 keeps the legacy single `img_url` rather than `input.media` (new-api: "Wan25I2VKeepsLegacyImgURL").
    fields: [...WAN25_SHARED, input('image_urls', 'img_url', firstItem), param('resolution', 'resolution', upperCase)],
    source: 'ComfyUI nodes_wan.py Image2VideoInputField / Image2VideoParametersField',
  },
};

// --- happyhorse-1.0 -----------------------------------------------------------------------------------------

const HAPPYHORSE_SHARED = [input('prompt'), param('resolution'), param('watermark'), param('seed')];

const HAPPYHORSE: ModelMapping = {
  T2V: {
    family: 'happyhorse-1.0',
    modeSuffix: '-t2v',
    fields: [...HAPPYHORSE_SHARED, param('size', 'ratio'), param('duration')],
    source: 'official happyhorse-1.0-t2v request JSON (spring-ai-alibaba video doc); happyhorse-text-to-video-api-reference',
  },
  I2V: {
    family: 'happyhorse-1.0',
    modeSuffix: '-i2v',
    // No ratio: the output follows the first frame (APIMart drops size in I2V too).
    fields: [...HAPPYHORSE_SHARED, param('duration')],
    media: [{ from: 'first_frame_image', type: 'first_frame' }],
    source: 'official happyhorse-1.0-i2v request JSON; happyhorse-image-to-video-api-reference',
  },
  R2V: {
    family: 'happyhorse-1.0',
    modeSuffix: '-r2v',
    fields: [...HAPPYHORSE_SHARED, param('size', 'ratio'), param('duration')],
    media: [{ from: 'image_urls', type: 'reference_image' }],
    source: 'official happyhorse-1.0-r2v request JSON; happyhorse-reference-to-video-api-reference',
  },
  EDIT: {
    family: 'happyhorse-1.0',
    modeSuffix: '-video-edit',
    // No ratio or duration: both follow the source video (truncated to 15 s).
    fields: [...HAPPYHORSE_SHARED, param('audio_setting')],
    media: [
      { from: 'video_url', type: 'video' },
      { from: 'image_urls', type: 'reference_image' },
    ],
    source: 'official happyhorse-1.0-video-edit request JSON; happyhorse-video-edit-api-reference (audio_setting)',
  },
};

// --- viduq3 / viduq3-mix through the Model Studio Vidu relay ------------------------------------------------

function viduRelay(family: string): ModelMapping {
  return {
    R2V: {
      family,
      modeSuffix: '_reference2video',
      fields: [
        input('prompt'),
        param('resolution', 'resolution', upperCase),
        param('aspect_ratio', 'size', pixelSize(VIDU_SIZES, 'resolution')),
        param('duration'),
        param('seed'),
      ],
      media: [{ from: 'image_urls', type: 'image' }],
      regions: ['beijing'],
      source: 'official vidu/viduq3-mix_reference2video request JSON (spring-ai-alibaba video doc); Bailian Vidu size table (UNCERTAIN)',
    },
  };
}

/** reelay model id → mode → upstream mapping. */
export const DASHSCOPE_MODELS: Readonly<Record<string, ModelMapping>> = {
  'wan2.5-preview': WAN25,
  'happyhorse-1.0': HAPPYHORSE,
  viduq3: viduRelay('vidu/viduq3'),
  'viduq3-mix': viduRelay('vidu/viduq3-mix'),
};

export function mappingFor(model: string, mode: Mode): UpstreamMapping | undefined {
  return DASHSCOPE_MODELS[model]?.[mode];
}
