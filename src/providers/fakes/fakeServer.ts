/**
 * The toolkit every fake upstream is built from: an HTTP server on loopback that records each request,
 * routes by method and path, and can be told to fail the next calls of a kind (429 with Retry-After, 5xx,
 * 4xx with the upstream's own error body), to answer slowly, or to drop the connection.
 *
 * Fakes live beside their adapters (src/providers/<name>/fake.ts) and are used by the adapter tests, the
 * engine tests and the benchmarks.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  /** Parsed JSON when the body is JSON, else the raw text (undefined when empty). */
  body: unknown;
  /** The route kind that handled it ('submit', 'status', 'cancel', 'result', ...). */
  kind: string;
  at: number;
}

export interface FakeRequest extends RecordedRequest {
  params: Record<string, string>;
}

export interface FakeResponse {
  status?: number;
  headers?: Record<string, string>;
  /** JSON-serialised unless a Buffer or string. */
  body?: unknown;
}

export interface Fault {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Close the socket without answering (a network failure). */
  drop?: boolean;
}

type Handler = (req: FakeRequest) => FakeResponse | Promise<FakeResponse>;

interface Route {
  method: string;
  pattern: RegExp;
  names: string[];
  kind: string;
  handler: Handler;
}

export class FakeServer {
  readonly requests: RecordedRequest[] = [];
  /** Set false for load tests with very many requests. */
  record = true;
  private readonly routes: Route[] = [];
  private readonly faults = new Map<string, Fault[]>();
  private readonly delays = new Map<string, number>();
  private server: http.Server | null = null;
  url = '';
  /** Requests answered, by kind (kept even when `record` is off). */
  readonly counts = new Map<string, number>();
  /** Requests being answered now, by kind + path; and every time one path was being answered twice at once. */
  private readonly inFlight = new Map<string, number>();
  readonly overlaps: { kind: string; path: string; at: number }[] = [];

  /**
   * Adds a route; `path` may contain :name segments. A parameter starts a segment (`/:name`); a colon
   * inside a segment is literal, for Google-style custom methods (`/models/:model:predictLongRunning`).
   */
  route(method: string, path: string, kind: string, handler: Handler): this {
    const names: string[] = [];
    const pattern = new RegExp(
      `^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\/:([A-Za-z_]+)(\\\*)?/g, (_, name: string, star: string | undefined) => {
        names.push(name);
        return star ? '/(.+)' : '/([^/]+)';
      })}$`,
    );
    this.routes.push({ method, pattern, names, kind, handler });
    return this;
  }

  /** The next `times` calls of `kind` answer with this fault instead. */
  failNext(kind: string, fault: Fault, times = 1): void {
    const list = this.faults.get(kind) ?? [];
    for (let i = 0; i < times; i++) list.push(fault);
    this.faults.set(kind, list);
  }

  /** Calls of `kind` wait this long before answering (0 to stop). */
  delay(kind: string, ms: number): void {
    this.delays.set(kind, ms);
  }

  requestsOf(kind: string): RecordedRequest[] {
    return this.requests.filter((r) => r.kind === kind);
  }

  async start(port = 0): Promise<string> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 5000;
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async close(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = null;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: unknown = raw === '' ? undefined : raw;
    if (raw && /json/.test(String(req.headers['content-type'] ?? ''))) {
      try {
        body = JSON.parse(raw);
      } catch {
        body = raw;
      }
    }
    const url = new URL(req.url ?? '/', 'http://fake');
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
    let route: Route | undefined;
    let match: RegExpExecArray | null = null;
    for (const r of this.routes) {
      if (r.method !== req.method) continue;
      match = r.pattern.exec(url.pathname);
      if (match) {
        route = r;
        break;
      }
    }
    const kind = route?.kind ?? 'unmatched';
    const recorded: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams), headers, body, kind, at: Date.now() };
    if (this.record) this.requests.push(recorded);
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);

    const slot = `${kind} ${url.pathname}`;
    const busy = (this.inFlight.get(slot) ?? 0) + 1;
    this.inFlight.set(slot, busy);
    if (busy > 1) this.overlaps.push({ kind, path: url.pathname, at: Date.now() });
    res.once('close', () => {
      const left = (this.inFlight.get(slot) ?? 1) - 1;
      if (left > 0) this.inFlight.set(slot, left);
      else this.inFlight.delete(slot);
    });
    const wait = this.delays.get(kind);
    if (wait) await new Promise((r) => setTimeout(r, wait));
    const fault = this.faults.get(kind)?.shift();
    if (fault?.drop) return void req.socket.destroy();
    let reply: FakeResponse;
    if (fault) reply = { status: fault.status, headers: fault.headers, body: fault.body };
    else if (!route) reply = { status: 404, body: { error: { message: `no route ${req.method} ${url.pathname}` } } };
    else {
      const params = Object.fromEntries(route.names.map((n, i) => [n, decodeURIComponent(match![i + 1])]));
      try {
        reply = await route.handler({ ...recorded, params });
      } catch (e) {
        reply = { status: 500, body: { error: { message: `fake crashed: ${(e as Error).message}` } } };
      }
    }
    const payload = Buffer.isBuffer(reply.body) ? reply.body : typeof reply.body === 'string' ? Buffer.from(reply.body) : reply.body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(reply.body));
    const type = Buffer.isBuffer(reply.body) ? 'application/octet-stream' : typeof reply.body === 'string' ? 'text/plain' : 'application/json';
    res.writeHead(reply.status ?? 200, { 'content-type': type, 'content-length': String(payload.length), ...reply.headers });
    res.end(payload);
  }
}
