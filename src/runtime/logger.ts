/**
 * Structured JSON logs (pino). HTTP lines carry the request id (Fastify's child logger per request);
 * engine lines carry the task id. `REELAY_LOG_LEVEL` sets the level (default info; silent in tests).
 */
import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';

export type Logger = PinoLogger;

export function createLogger(level = process.env.REELAY_LOG_LEVEL ?? (process.env.VITEST ? 'silent' : 'info')): Logger {
  return pino(
    {
      level,
      base: { service: 'reelay', pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    asyncStdout(),
  );
}

/**
 * Asynchronous stdout: lines written while a write is under way go out together in the next one, instead
 * of one blocking write(2) per access line. pino flushes what is left when the process exits (also on a
 * fatal error); a SIGKILL loses the lines still buffered, at most those of the last write's duration.
 *
 * In buffer mode, each line handed over as a Buffer: in its default mode sonic-boom appends each line to
 * one string and measures that string's UTF-8 length on every write, so a burst of lines during a write
 * cost time in proportion to the square of its size — about 2 µs of the ~5 µs an access line took under
 * load (docs/decisions/0012-performance.md).
 */
function asyncStdout(): DestinationStream {
  const boom = pino.destination({ dest: 1, sync: false, contentMode: 'buffer' });
  return {
    write: (line: string) => boom.write(Buffer.from(line) as unknown as string),
    // What pino calls on logger.flush() and at exit goes to sonic-boom itself.
    flush: (cb?: (err?: Error) => void) => boom.flush(cb),
    flushSync: () => boom.flushSync(),
    end: () => boom.end(),
  } as DestinationStream;
}

/** A logger that drops everything, for tests and tools. */
export const silentLogger: Logger = pino({ level: 'silent' });
