/**
 * Request bodies of the benchmarks. Valid: the use cases printed in the five seed documents (the same
 * bodies test/models/cases/* hold), for all seven models — except wan2.5's "Base64 Image" case, whose
 * seed payload is abbreviated ("iVBORw0KGgo...") and not a decodable image. Invalid: one typical mistake
 * per rule kind, spread over the models; each is refused with 400 by validation, before anything is stored.
 */
const P_HH = 'A little girl walking down the road, cinematic feel';
const P_WAN = 'Sunset coastal highway, cinematic shot';
const P_OMNI = 'a girl is dancing happily in a sunny garden';
const P_VIDU = 'Santa Claus and the bear hug by the lakeside';
const P_VEO = 'a golden retriever running on the beach, sunset, cinematic';
const VIDU_IMGS = ['https://example.com/santa.png', 'https://example.com/bear.png'];

export const VALID_BODIES: Record<string, unknown>[] = [
  // happyhorse-1.0
  { model: 'happyhorse-1.0', prompt: P_HH, resolution: '1080P', size: '16:9', duration: 5, seed: 42 },
  { model: 'happyhorse-1.0', prompt: P_HH },
  { model: 'happyhorse-1.0', prompt: 'A coastal road at sunset, slow-motion camera push-in, cinematic feel', resolution: '1080P', size: '16:9', duration: 8, watermark: false, seed: 42 },
  { model: 'happyhorse-1.0', prompt: 'Bring the scene in the image to life', first_frame_image: 'https://example.com/first_frame.png', resolution: '1080P', duration: 5 },
  {
    model: 'happyhorse-1.0',
    prompt: 'The protagonist from image 1 runs through the scene from image 2, then picks up the prop from image 3. Keep a 3D cartoon style with smooth motion.',
    image_urls: ['https://example.com/img_01.jpg', 'https://example.com/img_02.png', 'https://example.com/img_03.jpeg'],
    resolution: '1080P',
    size: '16:9',
    duration: 5,
    watermark: false,
  },
  {
    model: 'happyhorse-1.0',
    prompt: 'Convert the character in the video to a cartoon style, preserving the original motion',
    video_url: 'https://example.com/source.mp4',
    image_urls: ['https://example.com/style_ref.jpg'],
    resolution: '1080P',
    audio_setting: 'origin',
    seed: 42,
  },
  { model: 'happyhorse-1.0', prompt: 'Waves crashing on the beach at sunset', resolution: '720P', size: '16:9', duration: 5 },
  // wan2.5-preview
  { model: 'wan2.5-preview', prompt: P_WAN, size: '16:9', resolution: '720p', duration: 5 },
  { model: 'wan2.5-preview', prompt: P_WAN },
  {
    model: 'wan2.5-preview',
    prompt: 'City night scene, neon lights and rain-soaked streets',
    negative_prompt: 'blurry, low quality, distorted',
    size: '16:9',
    resolution: '720p',
    duration: 5,
    seed: 12345,
    prompt_extend: true,
    audio: true,
    watermark: false,
  },
  { model: 'wan2.5-preview', prompt: 'Cat running on the grass', image_urls: ['https://example.com/cat.jpg'], resolution: '480p', duration: 5 },
  {
    model: 'wan2.5-preview',
    prompt: 'Person dancing to the music',
    image_urls: ['https://example.com/dancer.jpg'],
    audio_url: 'https://example.com/music.mp3',
    resolution: '720p',
    duration: 10,
  },
  // Omni-Flash-Ext
  { model: 'Omni-Flash-Ext', prompt: P_OMNI, duration: 10, resolution: '1080p', aspect_ratio: '9:16' },
  { model: 'Omni-Flash-Ext', prompt: 'a beautiful sunset over the ocean with seagulls flying', duration: 6, resolution: '720p', aspect_ratio: '16:9' },
  {
    model: 'Omni-Flash-Ext',
    prompt: 'make the character smile and slowly turn around, cinematic camera motion',
    duration: 6,
    resolution: '1080p',
    aspect_ratio: '9:16',
    image_urls: ['https://example.com/character.jpg'],
  },
  {
    model: 'Omni-Flash-Ext',
    prompt: 'a creative scene combining these elements with smooth camera motion',
    duration: 10,
    resolution: '1080p',
    aspect_ratio: '9:16',
    image_urls: ['https://example.com/scene.jpg', 'https://example.com/character.jpg', 'https://example.com/product.jpg'],
  },
  { model: 'Omni-Flash-Ext', prompt: 'close-up of a hummingbird hovering in front of a red flower', duration: 4, resolution: '4k', aspect_ratio: '16:9' },
  // viduq3, viduq3-mix
  { model: 'viduq3', prompt: P_VIDU, image_urls: VIDU_IMGS, duration: 8, resolution: '720p', aspect_ratio: '16:9' },
  { model: 'viduq3', prompt: P_VIDU, image_urls: VIDU_IMGS },
  {
    model: 'viduq3-mix',
    prompt: 'A cyberpunk neon street with the cat from reference image walking by',
    image_urls: ['https://example.com/cat-1.png', 'https://example.com/cat-2.png', 'https://example.com/cat-3.png'],
    duration: 8,
    resolution: '1080p',
    aspect_ratio: '16:9',
    seed: 42,
  },
  // veo3.1-fast-official, veo3.1-quality-official
  { model: 'veo3.1-fast-official', prompt: P_VEO, duration: 8, aspect_ratio: '16:9' },
  { model: 'veo3.1-fast-official', prompt: P_VEO },
  {
    model: 'veo3.1-quality-official',
    prompt: 'a cinematic close-up of a ragdoll cat slowly walking through a sunlit living room',
    negative_prompt: 'blurry, low quality, watermark, text',
    duration: 8,
    aspect_ratio: '16:9',
    resolution: '1080p',
    seed: 12345,
    generate_audio: true,
    person_generation: 'disallow',
    enhance_prompt: true,
  },
  { model: 'veo3.1-fast-official', prompt: 'the cat slowly walks forward and looks around', first_frame_image: 'https://example.com/cat.png', duration: 8, resolution: '720p' },
  {
    model: 'veo3.1-quality-official',
    prompt: 'smooth cinematic transition from the first frame to the last frame',
    first_frame_image: 'https://example.com/frame-start.png',
    last_frame_image: 'https://example.com/frame-end.png',
    duration: 8,
    resolution: '1080p',
  },
  { model: 'veo3.1-quality-official', prompt: 'a busy coffee shop with people chatting and barista making latte art', duration: 8, generate_audio: true, aspect_ratio: '16:9' },
];

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
