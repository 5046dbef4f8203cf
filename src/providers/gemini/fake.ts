/**
 * A fake Gemini API on loopback, speaking Veo's protocol (UPSTREAMS.md §5a): the key is checked on every call
 * (header `x-goog-api-key` or `?key=`) with Google's own error bodies; predictLongRunning answers with an
 * operation name; GET on the operation reports it pending (no `done`, then `done: false`), then finished
 * with `sampleCount` samples whose URIs are Files API downloads that need the key, or with an rpc error
 * ("fake:fail"), or with every sample removed by the safety filters ("fake:rai", "fake:rai-partial").
 */
import { FakeServer, type FakeRequest, type FakeResponse } from '../fakes/fakeServer.ts';
import { FakeJobs } from '../fakes/fakeJobs.ts';
import { serveFakeMedia } from '../fakes/fakeMedia.ts';
import { fakeVideoBytes } from '../fakes/fakeVideo.ts';
import { FAKE_RAI_REASON, fakeVeoEnd, googleError } from '../google/fakeGoogle.ts';

export interface GeminiFakeOptions {
  apiKey?: string;
  /** Deliver videos inline (`encodedVideo`) instead of as download URIs. */
  inlineVideos?: boolean;
}

export class GeminiFake {
  readonly server = new FakeServer();
  readonly jobs = new FakeJobs();
  readonly apiKey: string;
  url = '';

  constructor(readonly opts: GeminiFakeOptions = {}) {
    this.apiKey = opts.apiKey ?? 'AIza-fake-gemini';

    this.server.route('POST', '/v1beta/models/:model:predictLongRunning', 'submit', (req) => this.keyError(req) ?? this.submit(req));
    this.server.route('GET', '/v1beta/models/:model/operations/:id', 'status', async (req) => this.keyError(req) ?? this.operation(req));
    this.server.route('GET', '/v1beta/files/:file:download', 'result', async (req) => this.keyError(req) ?? this.download(req));
    serveFakeMedia(this.server);
  }

  /** Google's answers to a missing key (403) and to a wrong one (400 API_KEY_INVALID). */
  private keyError(req: FakeRequest): FakeResponse | undefined {
    const key = req.headers['x-goog-api-key'] ?? req.query.key;
    if (!key) return googleError(403, "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.");
    if (key !== this.apiKey) return googleError(400, 'API key not valid. Please pass a valid API key.', 'API_KEY_INVALID');
    return undefined;
  }

  private submit(req: FakeRequest): FakeResponse {
    const body = req.body as { instances?: { prompt?: unknown }[]; parameters?: { sampleCount?: unknown } } | undefined;
    const prompt = body?.instances?.[0]?.prompt;
    if (typeof prompt !== 'string' || prompt === '') return googleError(400, '* GenerateVideoRequest.instances[0].prompt: required field is missing');
    const count = typeof body?.parameters?.sampleCount === 'number' ? body.parameters.sampleCount : 1;
    const job = this.jobs.create(prompt, body, count, 'op');
    return { body: { name: `models/${req.params.model}/operations/${job.id}` } };
  }

  private async operation(req: FakeRequest): Promise<FakeResponse> {
    const job = this.jobs.get(req.params.id);
    if (!job) return googleError(404, `Operation ${req.params.id} not found.`);
    const name = `models/${req.params.model}/operations/${job.id}`;
    const end = fakeVeoEnd(this.jobs, job);
    if ('pending' in end) return { body: end.running ? { name, done: false } : { name } };
    if ('error' in end) return { body: { name, done: true, error: end.error } };
    const video = await fakeVideoBytes();
    const generatedSamples = Array.from({ length: end.videos }, (_, i) => ({
      video: this.opts.inlineVideos
        ? { encodedVideo: video.toString('base64'), encoding: 'video/mp4' }
        : { uri: `${this.url}/v1beta/files/${job.id}-${i}:download?alt=media` },
    }));
    const filtered = end.filtered > 0 ? { raiMediaFilteredCount: end.filtered, raiMediaFilteredReasons: [FAKE_RAI_REASON] } : {};
    return {
      body: {
        name,
        done: true,
        response: {
          '@type': 'type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse',
          generateVideoResponse: { generatedSamples, ...filtered },
        },
      },
    };
  }

  private async download(req: FakeRequest): Promise<FakeResponse> {
    const jobId = req.params.file.replace(/-\d+$/, '');
    if (!this.jobs.get(jobId)) return googleError(404, `File ${req.params.file} not found.`);
    return { headers: { 'content-type': 'video/mp4' }, body: await fakeVideoBytes() };
  }

  async start(): Promise<string> {
    this.url = await this.server.start();
    return this.url;
  }

  close(): Promise<void> {
    return this.server.close();
  }
}
