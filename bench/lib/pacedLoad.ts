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
import { percentile } from './percentile.ts';

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
  /**
   * The p99 of the latencies from due (ms) of the requests due in each whole second of the window, in order:
   * whether a p99 over the window comes from every second or from a few episodes.
   */
  secondP99: number[];
}

const HEADER_END = Buffer.from('\r\n\r\n');
const LENGTH_NAMES = ['\r\ncontent-length:', '\r\nContent-Length:'];

/** The body length a response head declares (0 without one), read from the bytes without decoding the head. */
function contentLength(buf: Buffer, end: number): number {
  for (const name of LENGTH_NAMES) {
    let i = buf.indexOf(name, 0, 'latin1');
    if (i < 0 || i >= end) continue;
    i += name.length;
    let n = 0;
    for (let b = buf[i]; i < end; b = buf[++i]) {
      if (b === 0x20) continue;
      if (b < 0x30 || b > 0x39) break;
      n = n * 10 + (b - 0x30);
    }
    return n;
  }
  return 0;
}

class Connection {
  private buf: Buffer = Buffer.alloc(0);
  /** A request is out on this connection: when it was due and when it went. */
  busy = false;
  dueAt = 0;
  sentAt = 0;
  readonly socket: net.Socket;

  constructor(port: number, host: string, private readonly onAnswer: (c: Connection, status: number) => void, onError: (c: Connection) => void) {
    this.socket = net.connect(port, host);
    this.socket.setNoDelay(true);
    this.socket.on('data', (d: Buffer) => this.read(d));
    this.socket.on('error', () => onError(this));
  }

  send(bytes: Buffer, dueAt: number, sentAt: number): void {
    this.busy = true;
    this.dueAt = dueAt;
    this.sentAt = sentAt;
    this.socket.write(bytes);
  }

  private read(d: Buffer): void {
    this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
    for (;;) {
      const end = this.buf.indexOf(HEADER_END);
      if (end < 0) return;
      // "HTTP/1.1 200 ": the status is bytes 9–11.
      const status = (this.buf[9] - 0x30) * 100 + (this.buf[10] - 0x30) * 10 + (this.buf[11] - 0x30);
      const total = end + 4 + contentLength(this.buf, end);
      if (this.buf.length < total) return;
      this.buf = this.buf.subarray(total);
      this.onAnswer(this, status);
    }
  }
}

function requestText(r: LoadRequest, host: string, path: string): string {
  const body = r.body ?? '';
  let head = `${r.method} ${path} HTTP/1.1\r\nhost: ${host}\r\n`;
  for (const [k, v] of Object.entries(r.headers)) head += `${k}: ${v}\r\n`;
  if (r.method !== 'GET' || body) head += `content-length: ${Buffer.byteLength(body)}\r\n`;
  return `${head}\r\n${body}`;
}

export function pacedLoad(spec: PacedSpec): Promise<PacedResult> {
  const url = new URL(spec.url);
  const total = Math.ceil(spec.rate * spec.seconds) + 2;
  // Every request's bytes are made before the run, into one buffer, so the run itself allocates little and
  // keeps few objects alive: this process's garbage collections are latency it adds to what it measures.
  const texts = spec.ids
    ? Array.from({ length: Math.min(total, spec.ids.length) }, (_, i) => requestText(spec.requests[0], url.host, spec.requests[0].path.replace('{id}', spec.ids![i])))
    : spec.requests.map((r) => requestText(r, url.host, r.path));
  const all = Buffer.from(texts.join(''));
  const ends = new Uint32Array(texts.length + 1);
  texts.forEach((t, i) => (ends[i + 1] = ends[i] + Buffer.byteLength(t)));
  let next = 0;
  const nextRequest = (): Buffer => {
    const i = next++ % texts.length;
    return all.subarray(ends[i], ends[i + 1]);
  };

  const interval = 1000 / spec.rate;
  const sent = new Float64Array(total);
  const due = new Float64Array(total);
  /** When each answered request was due, ms from the start: which second of the window it belongs to. */
  const dueOffset = new Float64Array(total);
  const late = new Float64Array(total);
  let answers = 0;
  let lates = 0;
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
      c.busy = false;
      const now = performance.now();
      lastAnswer = now;
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status === spec.expectStatus) {
        sent[answers] = now - c.sentAt;
        dueOffset[answers] = c.dueAt - start;
        due[answers++] = now - c.dueAt;
      } else other++;
      dispatch(c);
      if (!stopped) release(now);
    };
    const failed = (c: Connection) => {
      errors++;
      c.busy = false;
    };
    const dispatch = (c: Connection) => {
      const dueAt = waiting.shift();
      if (dueAt === undefined) {
        idle.push(c);
        if (stopped && idle.length === connections.length) finish();
        return;
      }
      c.send(nextRequest(), dueAt, performance.now());
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
    // Requests are released as they fall due: at every answer (the loop is woken by one about every
    // 1 ÷ rate seconds under load) and on a 1 ms timer between answers. On the timer alone, Node's
    // millisecond timers sent each request up to 1–2 ms late, in clumps of rate ÷ 1000: latency the
    // generator added, the same for every server measured.
    const release = (now: number) => {
      const until = Math.min(now, start + spec.seconds * 1000);
      while (start + scheduled * interval <= until) {
        const dueAt = start + scheduled * interval;
        scheduled++;
        const c = idle.pop();
        if (c) {
          late[lates++] = now - dueAt;
          c.send(nextRequest(), dueAt, now);
        } else {
          waiting.push(dueAt);
        }
      }
    };
    const tick = () => {
      const now = performance.now();
      release(now);
      if (now >= start + spec.seconds * 1000) {
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
      const unanswered = waiting.length + connections.filter((c) => c.busy).length;
      for (const c of connections) c.socket.destroy();
      resolve({
        sent: sent.slice(0, answers).sort(),
        due: due.slice(0, answers).sort(),
        lateness: late.slice(0, lates).sort(),
        statuses,
        other,
        errors: errors + unanswered,
        unanswered,
        seconds: Math.max(spec.seconds, (lastAnswer - start) / 1000),
        secondP99: p99PerSecond(due.subarray(0, answers), dueOffset.subarray(0, answers), Math.floor(spec.seconds)),
      });
    };
  });
}

/** The p99 of `latencies` per whole second of `offsets` (ms from the start), for the first `seconds` seconds. */
export function p99PerSecond(latencies: Float64Array, offsets: Float64Array, seconds: number): number[] {
  const perSecond: number[][] = Array.from({ length: seconds }, () => []);
  for (let i = 0; i < latencies.length; i++) perSecond[Math.floor(offsets[i] / 1000)]?.push(latencies[i]);
  return perSecond.map((l) => percentile(l.sort((a, b) => a - b), 0.99));
}

/**
 * The p99 of each second of an open-loop window, summed up: whether a miss over the window is every second's
 * or a few episodes'. Information only; the target is judged over the whole window.
 */
export function bySecond(p99s: number[] | undefined, limitMs: number): string {
  const s = (p99s ?? []).filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (s.length < 2) return '';
  const ms = (v: number) => `${v < 10 ? v.toFixed(2) : v.toFixed(1)} ms`;
  const within = s.filter((v) => v <= limitMs).length;
  return `p99 of each second: median ${ms(percentile(s, 0.5))}, best ${ms(s[0])}, worst ${ms(s[s.length - 1])}, ${within} of ${s.length} seconds ≤ ${limitMs} ms`;
}
