/**
 * The /media routes every fake upstream serves: result videos (the same small MP4 for every job) and input
 * images/videos referenced by URL in tests.
 */
import type { FakeServer } from './fakeServer.ts';
import { fakeVideoBytes } from './fakeVideo.ts';

// A 1×1 PNG: enough for an upstream that only passes an input URL along.
const PNG_1X1 = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

export function serveFakeMedia(server: FakeServer): void {
  server.route('GET', '/media/:name', 'result', async (req) => {
    if (req.params.name.endsWith('.mp4')) return { headers: { 'content-type': 'video/mp4' }, body: await fakeVideoBytes() };
    if (req.params.name.endsWith('.png')) return { headers: { 'content-type': 'image/png' }, body: PNG_1X1 };
    return { status: 404, body: { error: { message: 'no such media' } } };
  });
}
