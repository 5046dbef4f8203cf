/**
 * URLs at which an upstream may call the gateway back about one task (Vidu callback_url, fal_webhook,
 * another reelay's callback_url). The URL carries an HMAC of channel and task, so only the upstream that
 * was given it can wake the task. The callback body is not trusted: it only makes the gateway check the
 * task at once instead of at its next poll.
 */
import crypto from 'node:crypto';

const PURPOSE = 'reelay-upstream-hook-v1';

export class HookUrls {
  constructor(
    private readonly secret: Buffer,
    private readonly baseUrl: string,
  ) {}

  private mac(channel: string, taskId: string): string {
    return crypto.createHmac('sha256', this.secret).update(`${PURPOSE}\n${channel}\n${taskId}`).digest('base64url');
  }

  urlFor(channel: string, taskId: string): string {
    return `${this.baseUrl.replace(/\/+$/, '')}/hooks/${encodeURIComponent(channel)}/${encodeURIComponent(taskId)}?sig=${this.mac(channel, taskId)}`;
  }

  verify(channel: string, taskId: string, sig: string | undefined): boolean {
    if (!sig) return false;
    const expected = Buffer.from(this.mac(channel, taskId));
    const given = Buffer.from(sig);
    return given.length === expected.length && crypto.timingSafeEqual(given, expected);
  }
}
