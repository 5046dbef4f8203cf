/**
 * Outbound HTTP that cannot be turned against the gateway's own network (SSRF).
 *
 * Every URL reelay fetches or calls back comes from a client or an upstream, so each hop is checked: scheme,
 * then the addresses the host resolves to (checked inside the connection's own DNS lookup, so a host cannot
 * resolve to a public address for the check and a private one for the connect). Loopback, private,
 * link-local, CGNAT, multicast and reserved addresses are refused unless the operator allows the host or
 * its CIDR (REELAY_ALLOW_PRIVATE_HOSTS). Redirects are followed by hand, re-checking each hop.
 */
import dns from 'node:dns';
import net from 'node:net';
import type { Readable } from 'node:stream';
import { Agent, request, type Dispatcher } from 'undici';

export interface SafeFetchOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Whole-request timeout until the headers arrive, ms (default 30 s). */
  headersTimeoutMs?: number;
  /** Idle time allowed between body chunks, ms (default 60 s). */
  bodyTimeoutMs?: number;
  signal?: AbortSignal;
  /** Refuse plain http (results from upstream replies); allowed hosts are exempt. */
  requireHttps?: boolean;
  maxRedirects?: number;
}

export interface SafeResponse {
  status: number;
  headers: Record<string, string>;
  url: string;
  body: Readable;
  text(): Promise<string>;
  json(): Promise<unknown>;
}

export type SafeFetch = (url: string, opts?: SafeFetchOptions) => Promise<SafeResponse>;

/** The request was refused before it left: bad scheme, or a host that resolves to a forbidden address. */
export class BlockedUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BlockedUrlError';
  }
}

const FORBIDDEN = new net.BlockList();
for (const [net4, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  FORBIDDEN.addSubnet(net4, prefix, 'ipv4');
}
for (const [net6, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['2001:db8::', 32],
  ['64:ff9b::', 96],
] as const) {
  FORBIDDEN.addSubnet(net6, prefix, 'ipv6');
}

export interface AddressPolicy {
  /** Hostnames (exact, case-insensitive) and CIDRs / addresses the operator allows although private. */
  allow: string[];
}

export class AddressGuard {
  private readonly hosts = new Set<string>();
  private readonly allowed = new net.BlockList();
  private allowedAny = false;

  constructor(policy: AddressPolicy) {
    for (const raw of policy.allow) {
      const entry = raw.trim().toLowerCase();
      if (!entry) continue;
      const [addr, prefix] = entry.split('/');
      const family = net.isIP(addr);
      if (family) {
        const type = family === 4 ? 'ipv4' : 'ipv6';
        this.allowed.addSubnet(addr, prefix ? Number(prefix) : family === 4 ? 32 : 128, type);
        this.allowedAny = true;
      } else {
        this.hosts.add(entry);
      }
    }
  }

  isHostAllowed(hostname: string): boolean {
    return this.hosts.has(stripBrackets(hostname).toLowerCase());
  }

  /** True when the address may be contacted (public, or allowed by the operator). */
  isAddressAllowed(address: string): boolean {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    const addr = mapped ? mapped[1] : address;
    const type = net.isIP(addr) === 6 ? 'ipv6' : 'ipv4';
    if (this.allowedAny && this.allowed.check(addr, type)) return true;
    return !FORBIDDEN.check(addr, type);
  }

  /** Throws BlockedUrlError unless the URL may be fetched (scheme and, for IP literals, the address). */
  checkUrl(raw: string, requireHttps: boolean): URL {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new BlockedUrlError(`not a valid URL: ${raw.slice(0, 80)}`);
    }
    const hostAllowed = this.isHostAllowed(url.hostname);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new BlockedUrlError(`scheme ${url.protocol} is not allowed`);
    if (requireHttps && url.protocol !== 'https:' && !hostAllowed && !this.literalAllowed(url.hostname)) {
      throw new BlockedUrlError(`${url.host} must be reached over https`);
    }
    const host = stripBrackets(url.hostname);
    if (net.isIP(host) && !hostAllowed && !this.isAddressAllowed(host)) {
      throw new BlockedUrlError(`${host} is a private or reserved address`);
    }
    return url;
  }

  /**
   * Resolves `hostname` and refuses it when every address is forbidden (a callback URL given at submit).
   * A host that does not resolve now is let through: delivery re-checks each connection anyway.
   */
  async checkResolves(hostname: string, timeoutMs = 2000): Promise<void> {
    const host = stripBrackets(hostname);
    if (net.isIP(host) || this.isHostAllowed(host)) return;
    const lookup = dns.promises.lookup(host, { all: true }).catch(() => undefined);
    const timeout = new Promise<undefined>((r) => setTimeout(() => r(undefined), timeoutMs).unref());
    const addresses = await Promise.race([lookup, timeout]);
    if (addresses && addresses.length > 0 && addresses.every((a) => !this.isAddressAllowed(a.address))) {
      throw new BlockedUrlError(`${host} resolves to a private or reserved address`);
    }
  }

  private literalAllowed(hostname: string): boolean {
    const host = stripBrackets(hostname);
    return net.isIP(host) !== 0 && this.allowedAny && this.allowed.check(host, net.isIP(host) === 6 ? 'ipv6' : 'ipv4');
  }

  /** A dns.lookup replacement that refuses forbidden answers, for the connection itself. */
  lookup(): net.LookupFunction {
    return (hostname, options, callback) => {
      dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
        if (err) return callback(err, '', 0);
        const list = addresses as dns.LookupAddress[];
        const hostAllowed = this.isHostAllowed(hostname);
        const usable = hostAllowed ? list : list.filter((a) => this.isAddressAllowed(a.address));
        if (usable.length === 0) {
          const e = new BlockedUrlError(`${hostname} resolves to a private or reserved address`);
          return callback(e as NodeJS.ErrnoException, '', 0);
        }
        if ((options as dns.LookupOptions).all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, usable);
        return callback(null, usable[0].address, usable[0].family);
      });
    };
  }
}

const CREDENTIAL_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'x-goog-api-key', 'x-api-key', 'api-key']);

function withoutCredentials(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([k]) => !CREDENTIAL_HEADERS.has(k.toLowerCase())));
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/**
 * Builds an outbound fetch over one connection pool. With a guard, every hop and every connect is checked
 * (URLs from clients and upstream replies); without one (`null`), it is a plain client for the upstream
 * APIs the operator configured, which may well live on a private network.
 */
export function createSafeFetch(guard: AddressGuard | null, opts: { connections?: number } = {}): { fetch: SafeFetch; close(): Promise<void> } {
  const agent = new Agent({
    ...(guard ? { connect: { lookup: guard.lookup() } } : {}),
    connections: opts.connections ?? 256,
    keepAliveTimeout: 10_000,
  });

  const fetch: SafeFetch = async (raw, o = {}) => {
    let current = raw;
    let method = o.method ?? 'GET';
    let body = o.body;
    let headers = o.headers;
    const maxRedirects = o.maxRedirects ?? 5;
    for (let hop = 0; ; hop++) {
      const url = guard ? guard.checkUrl(current, o.requireHttps ?? false) : new URL(current);
      let res: Dispatcher.ResponseData;
      try {
        res = await request(url, {
          dispatcher: agent,
          method: method as Dispatcher.HttpMethod,
          headers,
          body,
          signal: o.signal,
          headersTimeout: o.headersTimeoutMs ?? 30_000,
          bodyTimeout: o.bodyTimeoutMs ?? 60_000,
        });
      } catch (e) {
        const cause = (e as { cause?: unknown }).cause;
        if (e instanceof BlockedUrlError) throw e;
        if (cause instanceof BlockedUrlError) throw cause;
        throw e;
      }
      const location = res.headers.location;
      if (res.statusCode >= 300 && res.statusCode < 400 && location && hop < maxRedirects) {
        res.body.resume();
        const next = new URL(String(location), url);
        // Credentials go only to the origin they were meant for (a signed download may redirect to a CDN).
        if (next.origin !== url.origin && headers) headers = withoutCredentials(headers);
        current = next.toString();
        if (res.statusCode === 303 || ((res.statusCode === 301 || res.statusCode === 302) && method === 'POST')) {
          method = 'GET';
          body = undefined;
        }
        continue;
      }
      const replyHeaders: Record<string, string> = {};
      for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) replyHeaders[k] = Array.isArray(v) ? v.join(', ') : String(v);
      const stream = res.body;
      return {
        status: res.statusCode,
        headers: replyHeaders,
        url: url.toString(),
        body: stream,
        text: () => stream.text(),
        json: () => stream.json(),
      };
    }
  };

  return { fetch, close: () => agent.close() };
}
