/**
 * Bearer authentication for /v1 (API keys) and /admin (the admin token), and the per-key rate limit.
 */
import crypto from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../errors.ts';
import type { ApiKeyRecord } from '../store/types.ts';
import { MISS } from '../accounts/apiKeys.ts';
import type { AppContext } from './context.ts';

declare module 'fastify' {
  interface FastifyRequest {
    apiKey: ApiKeyRecord;
  }
}

export function bearerToken(req: FastifyRequest): string | undefined {
  return tokenOf(req.headers.authorization);
}

function tokenOf(h: string | undefined): string | undefined {
  if (typeof h !== 'string') return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m?.[1];
}

/**
 * The API key of a request from its Authorization header, after the key's rate limit (whose headers go
 * through `setHeader`). Shared by the Fastify hook and the fast path (fastPath.ts). The usual case — a key
 * looked up in the last seconds, no rate limit — returns the key without a promise; anything that must
 * wait (a store read, a shared limiter) returns one. Refusals are thrown (or rejected) as ApiErrors, built
 * without a stack trace (ApiError.refusal): a client with a wrong key or over its limit may send many.
 */
export function admitKey(ctx: AppContext, authorization: string | undefined, setHeader: (name: string, value: string) => void): ApiKeyRecord | Promise<ApiKeyRecord> {
  const token = tokenOf(authorization);
  if (!token) throw ApiError.refusal('authentication_error', 'Missing API key: send "Authorization: Bearer <api key>".');
  const cached = ctx.keys.authenticateCached(token);
  if (cached !== MISS && cached && (cached.rateLimitRpm ?? ctx.config.limits.default_rate_limit_rpm) === null) return cached;
  const key = cached === MISS ? ctx.keys.authenticate(token) : Promise.resolve(cached);
  return key.then((k) => admit(ctx, k, setHeader));
}

async function admit(ctx: AppContext, key: ApiKeyRecord | undefined, setHeader: (name: string, value: string) => void): Promise<ApiKeyRecord> {
  if (!key) throw ApiError.refusal('authentication_error', 'Invalid API key: it is unknown or has been revoked.');
  const limit = key.rateLimitRpm ?? ctx.config.limits.default_rate_limit_rpm;
  if (limit !== null) {
    const d = await ctx.limiter.hit(key.id, limit);
    setHeader('x-ratelimit-limit', String(limit));
    setHeader('x-ratelimit-remaining', String(d.remaining));
    if (!d.allowed) {
      throw ApiError.refusal('rate_limit_error', `Rate limit of ${limit} requests per minute reached; retry in ${d.retryAfterSeconds} s.`, null, {
        'Retry-After': String(d.retryAfterSeconds),
      });
    }
  }
  return key;
}

/** The /v1 hook: callback-style, so a request that needs no wait passes without a promise. */
export function authenticate(ctx: AppContext) {
  return (req: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void): void => {
    let key: ApiKeyRecord | Promise<ApiKeyRecord>;
    try {
      key = admitKey(ctx, req.headers.authorization, (name, value) => void reply.header(name, value));
    } catch (e) {
      return done(e as Error);
    }
    if (!(key instanceof Promise)) {
      req.apiKey = key;
      return done();
    }
    key.then((k) => {
      req.apiKey = k;
      done();
    }, done);
  };
}

export function requireAdmin(ctx: AppContext) {
  const expected = Buffer.from(ctx.adminToken);
  return async (req: FastifyRequest): Promise<void> => {
    const token = bearerToken(req);
    const given = Buffer.from(token ?? '');
    if (!token || given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) {
      throw new ApiError('authentication_error', 'Missing or wrong admin token: send "Authorization: Bearer <REELAY_ADMIN_TOKEN>".');
    }
  };
}
