/**
 * Vertex AI authenticates with OAuth access tokens. A channel's `credentials` is a service-account key (the
 * JSON object, or the path of its file); google-auth-library's JWT signs the assertion and exchanges it at
 * the key's `token_uri`. Tokens are cached until `refreshMarginMs` before expiry, and concurrent callers share
 * one exchange, so many calls cost one token request.
 */
import fs from 'node:fs';
import { JWT, gaxios } from 'google-auth-library';
import { z } from 'zod';
import { ConfigError } from '../../config/configError.ts';
import { ProviderError } from '../types.ts';

/** Where google-auth-library always sends the assertion (and the `aud` it signs). */
export const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';
export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

const serviceAccountSchema = z
  .object({
    type: z.literal('service_account').optional(),
    client_email: z.string().min(1),
    private_key: z.string().min(1),
    private_key_id: z.string().optional(),
    project_id: z.string().optional(),
    token_uri: z.string().url().default(GOOGLE_TOKEN_URL),
  })
  .passthrough();

export type ServiceAccount = z.output<typeof serviceAccountSchema>;

/** Reads and checks the key at start-up, so a bad path or a wrong file stops the gateway with the setting named. */
export function loadServiceAccount(credentials: string | Record<string, unknown>, setting: string): ServiceAccount {
  let raw: unknown = credentials;
  if (typeof credentials === 'string') {
    try {
      raw = JSON.parse(fs.readFileSync(credentials, 'utf8'));
    } catch (e) {
      throw new ConfigError(`${setting}: cannot read the service-account key file ${credentials}: ${(e as Error).message}`);
    }
  }
  const r = serviceAccountSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new ConfigError(`${setting}: not a service-account key (${issue.path.join('.') || 'key'}: ${issue.message})`);
  }
  return r.data;
}

export interface TokenOptions {
  /** Fetch a new token this long before the cached one expires (default 5 min, as google-auth-library). */
  refreshMarginMs?: number;
  /** Per token request, ms (default 30 s). */
  timeoutMs?: number;
}

export class ServiceAccountTokens {
  private client: JWT;
  private cached: { token: string; expiresAt: number } | null = null;
  private pending: Promise<string> | null = null;
  private readonly marginMs: number;

  constructor(
    private readonly account: ServiceAccount,
    private readonly o: TokenOptions = {},
  ) {
    this.marginMs = o.refreshMarginMs ?? 5 * 60_000;
    this.client = this.newClient();
  }

  async accessToken(): Promise<string> {
    if (this.cached && Date.now() < this.cached.expiresAt - this.marginMs) return this.cached.token;
    this.pending ??= this.exchange().finally(() => (this.pending = null));
    return this.pending;
  }

  /** Forgets the token (the API refused it, e.g. revoked): the next call exchanges the key again. */
  invalidate(): void {
    this.cached = null;
    // A fresh client: the old one would hand back its own cached token.
    this.client = this.newClient();
  }

  private async exchange(): Promise<string> {
    let credentials;
    try {
      credentials = await this.client.authorize();
    } catch (e) {
      throw tokenError(e);
    }
    if (!credentials.access_token) throw new ProviderError('vertex: the token endpoint answered without an access_token', { retryable: true });
    this.cached = { token: credentials.access_token, expiresAt: credentials.expiry_date ?? Date.now() + 3_600_000 };
    return credentials.access_token;
  }

  private newClient(): JWT {
    const client = new JWT({
      email: this.account.client_email,
      key: this.account.private_key,
      keyId: this.account.private_key_id,
      scopes: [CLOUD_PLATFORM_SCOPE],
      // The same margin as ours, so the library refreshes exactly when we ask it to.
      eagerRefreshThresholdMillis: this.marginMs,
    });
    // google-auth-library 10.9 posts the assertion to a fixed GOOGLE_TOKEN_URL (gtoken/getToken.js) and ignores
    // the key's token_uri; this sends it where the key says (a private endpoint, or the tests' fake).
    const tokenUri = new URL(this.account.token_uri);
    const timeout = this.o.timeoutMs ?? 30_000;
    client.transporter.interceptors.request.add({
      resolved: async (opts) => {
        if (String(opts.url) === GOOGLE_TOKEN_URL) {
          opts.url = tokenUri;
          opts.timeout = timeout;
        }
        return opts;
      },
    });
    return client;
  }
}

/** 4xx from the token endpoint means the key itself is refused (invalid_grant): retrying cannot help. */
function tokenError(e: unknown): ProviderError {
  const status = e instanceof gaxios.GaxiosError ? (e.status ?? e.response?.status) : undefined;
  const retryable = status === undefined || status === 408 || status === 429 || status >= 500;
  const body = e instanceof gaxios.GaxiosError ? (e.response?.data as { error?: unknown } | undefined) : undefined;
  return new ProviderError(`vertex could not get an access token: ${(e as Error).message}`, {
    retryable,
    status,
    upstreamCode: typeof body?.error === 'string' ? body.error : undefined,
    rateLimited: status === 429,
  });
}
