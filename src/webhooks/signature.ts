/**
 * Webhook signatures: HMAC-SHA256 over "<timestamp>.<body>" with the key's webhook secret, sent as
 * `X-Reelay-Signature: v1=<hex>` with `X-Reelay-Timestamp: <unix seconds>`. Receivers recompute it over
 * the raw body and refuse timestamps older than a few minutes (replay). docs/webhooks.md has the snippet.
 */
import crypto from 'node:crypto';

export const SIGNATURE_HEADER = 'x-reelay-signature';
export const TIMESTAMP_HEADER = 'x-reelay-timestamp';

export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `v1=${crypto.createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** What a receiver does; used by the tests and shown in the docs. */
export function verifyWebhook(secret: string, headers: Record<string, string | undefined>, rawBody: string, nowSeconds: number, toleranceSeconds = 300): boolean {
  const timestamp = Number(headers[TIMESTAMP_HEADER]);
  const given = headers[SIGNATURE_HEADER] ?? '';
  if (!Number.isInteger(timestamp) || Math.abs(nowSeconds - timestamp) > toleranceSeconds) return false;
  const expected = signWebhook(secret, timestamp, rawBody);
  return given.length === expected.length && crypto.timingSafeEqual(Buffer.from(given), Buffer.from(expected));
}
