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
  const h = req.headers.authorization;
  if (typeof h !== 'string') return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m?.[1];
}

export function authenticate(ctx: AppContext) {
  const admit = async (req: FastifyRequest, reply: FastifyReply, key: ApiKeyRecord | undefined): Promise<void> => {
    if (!key) throw new ApiError('authentication_error', 'Invalid API key: it is unknown or has been revoked.');
    req.apiKey = key;
    const limit = key.rateLimitRpm ?? ctx.config.limits.default_rate_limit_rpm;
    if (limit !== null) {
      const d = await ctx.limiter.hit(key.id, limit);
      reply.header('x-ratelimit-limit', String(limit));
      reply.header('x-ratelimit-remaining', String(d.remaining));
      if (!d.allowed) {
        throw new ApiError('rate_limit_error', `Rate limit of ${limit} requests per minute reached; retry in ${d.retryAfterSeconds} s.`, null, {
          'Retry-After': String(d.retryAfterSeconds),
        });
      }
    }
  };
  // Callback-style, so the usual case — a key looked up in the last seconds, no rate limit — passes
  // without a promise; anything that must wait (a store read, a shared limiter) goes through `admit`.
  return (req: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void): void => {
    const token = bearerToken(req);
    if (!token) return done(new ApiError('authentication_error', 'Missing API key: send "Authorization: Bearer <api key>".'));
    const cached = ctx.keys.authenticateCached(token);
    if (cached !== MISS && cached && (cached.rateLimitRpm ?? ctx.config.limits.default_rate_limit_rpm) === null) {
      req.apiKey = cached;
      return done();
    }
    const key = cached === MISS ? ctx.keys.authenticate(token) : Promise.resolve(cached);
    key.then((k) => admit(req, reply, k)).then(() => done(), done);
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
