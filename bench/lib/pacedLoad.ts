/**
 * Open-loop load at a set rate, paced evenly: request i is due at start + i / rate, whatever the server has
 * answered so far. Each goes out on an idle one of the keep-alive connections; when every connection is
 * busy it waits for the first to free, and its latency still counts from when it was due (the correction
 * for coordinated omission that wrk2 makes): a slow server cannot hide its queue by slowing the client.
 *
 * autocannon's `overallRate` is not this: it gives each connection a budget per second and lets it send
 * back to back until the budget is spent, so a server just above the rate sees a closed loop at saturation
 * for most of every second, and the "p99 at the offered rate" was the p99 of those bursts.
 *
 * Responses are parsed only as far as this needs (status line, content-length, body); the gateway and the
 * baseline always send a content-length.
 */
import net from 'node:net';
import type { LoadRequest } from './load.ts';

export interface PacedSpec {
  url: string;
  connections: number;
  rate: number;
  seconds: number;
  requests: LoadRequest[];
  /** Ids for `{id}` in the (single) request's path, taken in turn. */
  ids: string[] | null;
  expectStatus: number;
}

export interface PacedResult {
  /** Latencies (ms) of expected-status answers, sorted: from the request's sending, and from when it was due. */
  sent: Float64Array;
  due: Float64Array;
  statuses: Record<string, number>;
  other: number;
  errors: number;
  /**
   * How late this generator itself sent requests that found a connection free (ms, sorted): its own delay,
   * which the latencies from `due` include. Large values mean the load generator, not the server, was behind.
   */
  lateness: Float64Array;
  /** Requests due in the window that had no answer 5 s after it (counted as errors too). */
  unanswered: number;
  /** From the first request to the last answer: the window, or longer when the server fell behind. */
  seconds: number;
}

interface Pending {
  dueAt: number;
  sentAt: number;
}

const HEADER_END = Buffer.from('\r\n\r\n');

class Connection {
  private buf: Buffer = Buffer.alloc(0);
  inFlight: Pending | null = null;
  readonly socket: net.Socket;

  constructor(port: number, host: string, private readonly onAnswer: (c: Connection, status: number) => void, onError: (c: Connection) => void) {
    this.socket = net.connect(port, host);
    this.socket.setNoDelay(true);
    this.socket.on('data', (d: Buffer) => this.read(d));
    this.socket.on('error', () => onError(this));
  }

  send(bytes: Buffer, p: Pending): void {
    this.inFlight = p;
    this.socket.write(bytes);
  }

  private read(d: Buffer): void {
    this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
    for (;;) {
      const end = this.buf.indexOf(HEADER_END);
      if (end < 0) return;
      const head = this.buf.toString('latin1', 0, end);
      const status = Number(head.slice(9, 12));
      const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      const total = end + 4 + (m ? Number(m[1]) : 0);
      if (this.buf.length < total) return;
      this.buf = this.buf.subarray(total);
      this.onAnswer(this, status);
    }
  }
}

function requestBytes(r: LoadRequest, host: string, path: string): Buffer {
  const body = r.body ?? '';
  let head = `${r.method} ${path} HTTP/1.1\r\nhost: ${host}\r\n`;
  for (const [k, v] of Object.entries(r.headers)) head += `${k}: ${v}\r\n`;
  if (r.method !== 'GET' || body) head += `content-length: ${Buffer.byteLength(body)}\r\n`;
  return Buffer.from(`${head}\r\n${body}`);
}

export function pacedLoad(spec: PacedSpec): Promise<PacedResult> {
  const url = new URL(spec.url);
  const fixed = spec.ids ? null : spec.requests.map((r) => requestBytes(r, url.host, r.path));
  let next = 0;
  const nextRequest = (): Buffer => {
    const i = next++;
    if (fixed) return fixed[i % fixed.length];
    const r = spec.requests[0];
    return requestBytes(r, url.host, r.path.replace('{id}', spec.ids![i % spec.ids!.length]));
  };

  const interval = 1000 / spec.rate;
  const sent: number[] = [];
  const due: number[] = [];
  const late: number[] = [];
  const statuses: Record<string, number> = {};
  let other = 0;
  let errors = 0;
  const waiting: number[] = [];
  const idle: Connection[] = [];
  let start = 0;
  let lastAnswer = 0;
  let scheduled = 0;
  let stopped = false;

  return new Promise((resolve) => {
    const answered = (c: Connection, status: number) => {
      const p = c.inFlight!;
      c.inFlight = null;
      const now = performance.now();
      lastAnswer = now;
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status === spec.expectStatus) {
        sent.push(now - p.sentAt);
        due.push(now - p.dueAt);
      } else other++;
      dispatch(c);
    };
    const failed = (c: Connection) => {
      errors++;
      c.inFlight = null;
    };
    const dispatch = (c: Connection) => {
      const dueAt = waiting.shift();
      if (dueAt === undefined) {
        idle.push(c);
        if (stopped && idle.length === connections.length) finish();
        return;
      }
      c.send(nextRequest(), { dueAt, sentAt: performance.now() });
    };
    // A server that never accepts the connections still ends the run.
    setTimeout(() => finish(), (spec.seconds + 10) * 1000).unref();
    const connections = Array.from({ length: spec.connections }, () => new Connection(Number(url.port), url.hostname, answered, failed));
    let connected = 0;
    for (const c of connections) {
      c.socket.once('connect', () => {
        idle.push(c);
        if (++connected === connections.length) begin();
      });
    }

    let timer: NodeJS.Timeout;
    const begin = () => {
      start = performance.now();
      tick();
    };
    // Every millisecond, release the requests that have fallen due since the last tick.
    const tick = () => {
      const now = performance.now();
      const end = start + spec.seconds * 1000;
      const until = Math.min(now, end);
      while (start + scheduled * interval <= until) {
        const dueAt = start + scheduled * interval;
        scheduled++;
        const c = idle.pop();
        if (c) {
          late.push(now - dueAt);
          c.send(nextRequest(), { dueAt, sentAt: now });
        } else {
          waiting.push(dueAt);
        }
      }
      if (now >= end) {
        stopped = true;
        // What has not been answered 5 s after the window is counted as lost.
        setTimeout(finish, 5000).unref();
        if (idle.length === connections.length && waiting.length === 0) finish();
        return;
      }
      timer = setTimeout(tick, 1);
    };

    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      const unanswered = waiting.length + connections.filter((c) => c.inFlight).length;
      for (const c of connections) c.socket.destroy();
      resolve({
        sent: Float64Array.from(sent).sort(),
        due: Float64Array.from(due).sort(),
        lateness: Float64Array.from(late).sort(),
        statuses,
        other,
        errors: errors + unanswered,
        unanswered,
        seconds: Math.max(spec.seconds, (lastAnswer - start) / 1000),
      });
    };
  });
}
