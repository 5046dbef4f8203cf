/**
 * Request bodies of the benchmarks. Valid: the use cases printed in the five seed documents, as the model
 * specs hold them (`examples`), for all seven models — except wan2.5's "Base64 Image" case, whose seed
 * payload is abbreviated ("iVBORw0KGgo...") and not a decodable image. Invalid: one typical mistake per rule
 * kind, spread over the models; each is refused with 400 by validation, before anything is stored.
 */
import { listModels } from '../../src/models/registry.ts';

const P_HH = 'A little girl walking down the road, cinematic feel';
const P_WAN = 'Sunset coastal highway, cinematic shot';
const P_OMNI = 'a girl is dancing happily in a sunny garden';
const P_VIDU = 'Santa Claus and the bear hug by the lakeside';
const P_VEO = 'a golden retriever running on the beach, sunset, cinematic';
const VIDU_IMGS = ['https://example.com/santa.png', 'https://example.com/bear.png'];

export const VALID_BODIES: Record<string, unknown>[] = listModels()
  .flatMap((m) => m.examples.map((e) => e.body))
  .filter((body) => !JSON.stringify(body).includes('data:image/'));

export const INVALID_BODIES: unknown[] = [
  { model: 'Omni-Flash-Ext', prompt: P_OMNI, duration: 7 }, // invalid_duration
  { model: 'happyhorse-1.0', prompt: P_HH, resolution: '4K' }, // invalid_resolution
  { model: 'wan2.5-preview', prompt: P_WAN, duration: '5' }, // duration as a string
  { model: 'viduq3', prompt: P_VIDU }, // reference images required
  { model: 'veo3.1-fast-official' }, // prompt missing
  { model: 'sora-2', prompt: 'a cat' }, // model not served
  { prompt: 'no model at all' },
  { model: 'happyhorse-1.0', prompt: P_HH, first_frame_image: 'https://example.com/a.png', image_urls: ['https://example.com/b.png'] }, // exclusive media
  { model: 'Omni-Flash-Ext', prompt: P_OMNI, image_urls: ['https://example.com/1.jpg', 'https://example.com/2.jpg'] }, // 2 images: no mode
  { model: 'veo3.1-quality-official', prompt: P_VEO, first_frame_image: 'ftp://example.com/a.png' }, // not http(s)
  { model: 'happyhorse-1.0', prompt: P_HH, audio_setting: 'origin' }, // audio_setting outside video edit
  { model: 'viduq3-mix', prompt: P_VIDU, image_urls: VIDU_IMGS, aspect_ratio: '21:9' }, // invalid value
];

/** Text-to-video bodies only: nothing for the engine to fetch from example.com before it starts a task. */
export const T2V_BODIES = VALID_BODIES.filter((b) => !['image_urls', 'first_frame_image', 'last_frame_image', 'video_url', 'audio_url'].some((f) => f in b));
