/**
 * How Vidu signs its callbacks (https://platform.vidu.com/docs/callback-signature):
 *
 *   signature = base64(HMAC-SHA256(api key the task was created with, signingString))
 *   signingString = METHOD \n path \n query \n "vidu" \n Date \n  then "Header:value\n" for each header
 *                   named in X-HMAC-SIGNED-HEADERS ("Date;x-request-nonce"), in that order.
 *
 * reelay does not rely on it — the callback URL carries reelay's own HMAC and the body is never trusted
 * (the task is re-read from the creations endpoint) — but the fake signs its callbacks this way so that
 * they look like Vidu's, and an operator who wants to check them has the algorithm in one place.
 */
import crypto from 'node:crypto';

const ACCESS_KEY = 'vidu';
const SIGNED_HEADERS = ['Date', 'x-request-nonce'] as const;

export function callbackSigningString(method: string, callbackUrl: string, date: string, nonce: string): string {
  const url = new URL(callbackUrl);
  const values: Record<(typeof SIGNED_HEADERS)[number], string> = { Date: date, 'x-request-nonce': nonce };
  const headers = SIGNED_HEADERS.map((h) => `${h}:${values[h]}\n`).join('');
  // URL.search keeps the query exactly as written (no re-ordering), as a "standard URL parser" would.
  return [method.toUpperCase(), url.pathname || '/', url.search.replace(/^\?/, ''), ACCESS_KEY, date, headers].join('\n');
}

/** The headers a Vidu callback carries. */
export function signedCallbackHeaders(apiKey: string, callbackUrl: string, now = new Date(), nonce: string = crypto.randomUUID()): Record<string, string> {
  const date = now.toUTCString();
  const signature = crypto.createHmac('sha256', apiKey).update(callbackSigningString('POST', callbackUrl, date, nonce)).digest('base64');
  return {
    date,
    'x-request-nonce': nonce,
    'x-hmac-signed-headers': SIGNED_HEADERS.join(';'),
    'x-hmac-signature': signature,
    'x-hmac-algorithm': 'hmac-sha256',
    'x-hmac-access-key': ACCESS_KEY,
  };
}
