/**
 * A fake Vertex AI on loopback (UPSTREAMS.md §5b), with the pieces Veo needs:
 * - an OAuth token endpoint (the service account's token_uri) that accepts a JWT-bearer assertion only when
 *   its RS256 signature verifies with the test service account's public key and its claims are right, and
 *   answers like Google's (`invalid_grant` otherwise);
 * - predictLongRunning and fetchPredictOperation, which accept only tokens it issued; results are inline
 *   `bytesBase64Encoded`, or `gcsUri` objects in the bucket named by the request's `storageUri`;
 * - the Cloud Storage JSON API download route for those objects, which also wants the bearer token.
 * Job endings follow fakeGoogle.ts ("fake:fail", "fake:rai", "fake:rai-partial").
 */
import crypto from 'node:crypto';
import { FakeServer, type FakeRequest, type FakeResponse } from '../fakes/fakeServer.ts';
import { FakeJobs } from '../fakes/fakeJobs.ts';
import { serveFakeMedia } from '../fakes/fakeMedia.ts';
import { fakeVideoBytes } from '../fakes/fakeVideo.ts';
import { FAKE_RAI_REASON, fakeVeoEnd, googleError } from '../google/fakeGoogle.ts';
import { CLOUD_PLATFORM_SCOPE, GOOGLE_TOKEN_URL } from './vertexAuth.ts';

export interface VertexFakeOptions {
  project: string;
  location: string;
  /** The service account whose assertions the token endpoint accepts. */
  clientEmail: string;
  publicKey: crypto.KeyLike;
  /** `expires_in` of issued tokens (default 3600 s, as Google). */
  tokenLifetimeSeconds?: number;
}

const MODELS = '/v1/projects/:project/locations/:location/publishers/google/models';

export class VertexFake {
  readonly server = new FakeServer();
  readonly jobs = new FakeJobs();
  /** Access token → expiry (ms). */
  readonly issued = new Map<string, number>();
  /** gs:// URIs of the objects Veo "wrote". */
  readonly objects = new Set<string>();
  url = '';

  constructor(readonly opts: VertexFakeOptions) {
    this.server.route('POST', '/token', 'token', (req) => this.token(req));
    this.server.route('POST', `${MODELS}/:model:predictLongRunning`, 'submit', (req) => this.authError(req) ?? this.submit(req));
    this.server.route('POST', `${MODELS}/:model:fetchPredictOperation`, 'status', async (req) => this.authError(req) ?? this.operation(req));
    this.server.route('GET', '/download/storage/v1/b/:bucket/o/:object', 'result', async (req) => this.authError(req) ?? this.download(req));
    serveFakeMedia(this.server);
  }

  /** The OAuth 2.0 JWT-bearer grant (RFC 7523), as Google's token endpoint answers it. */
  private token(req: FakeRequest): FakeResponse {
    const form = new URLSearchParams(typeof req.body === 'string' ? req.body : '');
    if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
      return { status: 400, body: { error: 'unsupported_grant_type', error_description: 'Invalid grant_type.' } };
    }
    const problem = this.assertionProblem(form.get('assertion') ?? '');
    if (problem) return { status: 400, body: { error: 'invalid_grant', error_description: problem } };
    const lifetime = this.opts.tokenLifetimeSeconds ?? 3600;
    const token = `ya29.fake-${crypto.randomBytes(9).toString('base64url')}`;
    this.issued.set(token, Date.now() + lifetime * 1000);
    return { body: { access_token: token, expires_in: lifetime, token_type: 'Bearer' } };
  }

  private assertionProblem(assertion: string): string | undefined {
    const [header, payload, signature] = assertion.split('.');
    if (!header || !payload || !signature) return 'Invalid JWT: malformed.';
    const alg = (JSON.parse(Buffer.from(header, 'base64url').toString()) as { alg?: string }).alg;
    if (alg !== 'RS256') return `Invalid JWT: alg ${alg} is not RS256.`;
    if (!crypto.verify('RSA-SHA256', Buffer.from(`${header}.${payload}`), this.opts.publicKey, Buffer.from(signature, 'base64url'))) return 'Invalid JWT Signature.';
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { iss?: string; aud?: string; scope?: string; exp?: number; iat?: number };
    const now = Date.now() / 1000;
    if (claims.iss !== this.opts.clientEmail) return 'Invalid JWT: iss is not the service account.';
    if (claims.aud !== GOOGLE_TOKEN_URL) return `Invalid JWT: aud must be ${GOOGLE_TOKEN_URL}.`;
    if (!claims.scope?.split(' ').includes(CLOUD_PLATFORM_SCOPE)) return 'Invalid JWT: the cloud-platform scope is missing.';
    if (!claims.exp || claims.exp < now || !claims.iat || claims.iat > now + 60) return 'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.';
    return undefined;
  }

  private authError(req: FakeRequest): FakeResponse | undefined {
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const expiry = token ? this.issued.get(token) : undefined;
    if (expiry === undefined || expiry < Date.now()) {
      return googleError(401, 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.', 'ACCESS_TOKEN_TYPE_UNSUPPORTED');
    }
    if (req.params.project !== undefined && (req.params.project !== this.opts.project || req.params.location !== this.opts.location)) {
      return googleError(403, `Permission 'aiplatform.endpoints.predict' denied on resource '//aiplatform.googleapis.com/projects/${req.params.project}/locations/${req.params.location}'.`, 'IAM_PERMISSION_DENIED');
    }
    return undefined;
  }

  private operationName(model: string, jobId: string): string {
    return `projects/${this.opts.project}/locations/${this.opts.location}/publishers/google/models/${model}/operations/${jobId}`;
  }

  private submit(req: FakeRequest): FakeResponse {
    const body = req.body as { instances?: { prompt?: unknown }[]; parameters?: { sampleCount?: unknown } } | undefined;
    const prompt = body?.instances?.[0]?.prompt;
    if (typeof prompt !== 'string' || prompt === '') return googleError(400, 'Text prompt is required.');
    const count = typeof body?.parameters?.sampleCount === 'number' ? body.parameters.sampleCount : 1;
    const job = this.jobs.create(prompt, body, count, 'op');
    return { body: { name: this.operationName(req.params.model, job.id) } };
  }

  private async operation(req: FakeRequest): Promise<FakeResponse> {
    const operationName = (req.body as { operationName?: unknown } | undefined)?.operationName;
    const jobId = typeof operationName === 'string' ? operationName.split('/').at(-1)! : '';
    const job = this.jobs.get(jobId);
    if (!job || operationName !== this.operationName(req.params.model, jobId)) return googleError(404, `Operation ${String(operationName)} not found.`);
    const name = operationName;
    const end = fakeVeoEnd(this.jobs, job);
    if ('pending' in end) return { body: end.running ? { name, done: false } : { name } };
    if ('error' in end) return { body: { name, done: true, error: end.error } };
    const storageUri = (job.request as { parameters?: { storageUri?: string } }).parameters?.storageUri;
    const video = await fakeVideoBytes();
    const videos = Array.from({ length: end.videos }, (_, i) => {
      if (!storageUri) return { bytesBase64Encoded: video.toString('base64'), mimeType: 'video/mp4' };
      const gcsUri = `${storageUri.replace(/\/?$/, '/')}${job.id}/sample_${i}.mp4`;
      this.objects.add(gcsUri);
      return { gcsUri, mimeType: 'video/mp4' };
    });
    const filtered = end.filtered > 0 ? { raiMediaFilteredCount: end.filtered, raiMediaFilteredReasons: [FAKE_RAI_REASON] } : {};
    return { body: { name, done: true, response: { '@type': 'type.googleapis.com/cloud.ai.large_models.vision.GenerateVideoResponse', videos, ...filtered } } };
  }

  private async download(req: FakeRequest): Promise<FakeResponse> {
    if (req.query.alt !== 'media') return googleError(400, 'This fake serves only alt=media downloads.');
    if (!this.objects.has(`gs://${req.params.bucket}/${req.params.object}`)) return googleError(404, `No such object: ${req.params.bucket}/${req.params.object}`);
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
