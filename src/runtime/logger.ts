/**
 * Structured JSON logs (pino). HTTP lines carry the request id (Fastify's child logger per request);
 * engine lines carry the task id. `REELAY_LOG_LEVEL` sets the level (default info; silent in tests).
 */
import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';

export type Logger = PinoLogger;

/** The fields every line of a logger from createLogger starts with, after its level and time. */
const BASE = { service: 'reelay', pid: process.pid };

/** Loggers made by createLogger: their lines have a known form, which logRequest writes directly. */
const ownFormat = new WeakSet<Logger>();

/** `destination` is for tests; the gateway's logs go to stdout. */
export function createLogger(level = process.env.REELAY_LOG_LEVEL ?? (process.env.VITEST ? 'silent' : 'info'), destination?: DestinationStream): Logger {
  const logger = pino(
    {
      level,
      base: BASE,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination ?? bufferedStdout(),
  );
  ownFormat.add(logger);
  return logger;
}

const ACCESS_LINE_HEAD = `","service":${JSON.stringify(BASE.service)},"pid":${BASE.pid},"reqId":`;

/** The time as pino's isoTime writes it, formatted once per millisecond (toISOString costs ~0.9 µs). */
let isoMs = -1;
let isoText = '';
function isoNow(): string {
  const now = Date.now();
  if (now !== isoMs) {
    isoMs = now;
    isoText = new Date(now).toISOString();
  }
  return isoText;
}

/**
 * The access line of a request: exactly what `logger.info({ reqId, method, url, status, ms }, 'request')`
 * writes, but built here for loggers from createLogger. Through pino's serializer the line cost 6 µs of CPU
 * per request under load, built directly 3 µs (with no line at all a refused body took 37 µs; A/B in
 * docs/decisions/0012-performance.md). test/runtime/logger.test.ts holds the two lines equal. Any other
 * logger gets the pino call.
 */
export function logRequest(logger: Logger, reqId: string, method: string, url: string, status: number, ms: number): void {
  if (!ownFormat.has(logger)) {
    logger.info({ reqId, method, url, status, ms }, 'request');
    return;
  }
  if (!logger.isLevelEnabled('info')) return;
  const stream = (logger as unknown as Record<symbol, DestinationStream>)[pino.symbols.streamSym];
  stream.write(
    `{"level":"info","time":"${isoNow()}${ACCESS_LINE_HEAD}${JSON.stringify(reqId)},"method":${JSON.stringify(method)},"url":${JSON.stringify(url)},"status":${status},"ms":${ms},"msg":"request"}\n`,
  );
}

/**
 * Buffered stdout: lines collect until 4 KiB are waiting (about 24 access lines) or 100 ms have passed, then
 * go out in one write(2) from this thread. Under load that is one system call for a few dozen requests;
 * a quiet gateway's lines appear within 100 ms. What is left is written out when the process exits (also on
 * a fatal error: flushAll below, as pino does not for a synchronous destination); a SIGKILL loses the lines
 * still buffered, at most 4 KiB or 100 ms of them.
 *
 * Measured under load (docs/decisions/0012-performance.md): an access line cost 8 µs of CPU per request
 * with sonic-boom's asynchronous mode (a write in the thread pool for every ~27 lines, each waking a pool
 * thread and then the event loop), 4 µs with this. Writing a line per request synchronously, as at first,
 * cost more than either. In buffer mode each line is handed over as a Buffer: in its default mode sonic-boom
 * appends each line to one string and measures that string's UTF-8 length on every write, a cost that grows
 * with the square of the lines waiting.
 */
const FLUSH_EVERY_MS = 100;

function bufferedStdout(): DestinationStream {
  const boom = pino.destination({ dest: 1, sync: true, contentMode: 'buffer', minLength: 4096 });
  // pino flushes its own destinations at exit only when they are asynchronous; this one holds lines too.
  if (buffered.size === 0) process.once('exit', flushAll);
  buffered.add(boom);
  // Written out every 100 ms when something was logged since (sonic-boom's own periodicFlush also writes
  // when nothing waits: an empty write(2) ten times a second on an idle gateway).
  let logged = false;
  setInterval(() => {
    if (!logged) return;
    logged = false;
    boom.flush();
  }, FLUSH_EVERY_MS).unref();
  return {
    write: (line: string) => {
      logged = true;
      return boom.write(Buffer.from(line) as unknown as string);
    },
    // What pino calls on logger.flush() and at exit goes to sonic-boom itself.
    flush: (cb?: (err?: Error) => void) => boom.flush(cb),
    flushSync: () => boom.flushSync(),
    end: () => boom.end(),
  } as DestinationStream;
}

/** Every buffered destination, written out when the process exits (however it exits, short of SIGKILL). */
const buffered = new Set<ReturnType<typeof pino.destination>>();

function flushAll(): void {
  for (const boom of buffered) {
    try {
      boom.flushSync();
    } catch {
      // stdout closed (EPIPE): nothing more can be written.
    }
  }
}

/** A logger that drops everything, for tests and tools. */
export const silentLogger: Logger = pino({ level: 'silent' });
