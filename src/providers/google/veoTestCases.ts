/** The APIMart bodies both Veo adapters run through the provider contract: every mode Veo 3.1 serves. */
export const VEO_CONTRACT_CASES = [
  { title: 'veo3.1-fast-official text-to-video', body: { model: 'veo3.1-fast-official', prompt: 'a lighthouse at dusk' } },
  { title: 'veo3.1-quality-official image-to-video', body: { model: 'veo3.1-quality-official', prompt: 'waves roll in', first_frame_image: 'https://example.com/f.png' } },
  {
    title: 'veo3.1-quality-official first + last frame',
    body: { model: 'veo3.1-quality-official', prompt: 'day turns to night', first_frame_image: 'https://example.com/f.png', last_frame_image: 'https://example.com/l.png' },
  },
  { title: 'veo3.1-fast-official sample_count 2', body: { model: 'veo3.1-fast-official', prompt: 'two takes', sample_count: 2 } },
  { title: 'veo3.1-fast-official generate_audio', body: { model: 'veo3.1-fast-official', prompt: 'a busy cafe', generate_audio: true, duration: 4 } },
];
