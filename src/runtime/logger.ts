/**
 * Structured JSON logs (pino). HTTP lines carry the request id (Fastify's child logger per request);
 * engine lines carry the task id. `REELAY_LOG_LEVEL` sets the level (default info; silent in tests).
 */
import { pino, type Logger as PinoLogger } from 'pino';

export type Logger = PinoLogger;

export function createLogger(level = process.env.REELAY_LOG_LEVEL ?? (process.env.VITEST ? 'silent' : 'info')): Logger {
  return pino(
    {
      level,
      base: { service: 'reelay', pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    // Asynchronous stdout: lines written while a write is under way go out together in the next one, instead
    // of one blocking write(2) per access line. pino flushes what is left when the process exits (also on
    // a fatal error); a SIGKILL loses the lines still buffered, at most those of the last write's duration.
    pino.destination({ dest: 1, sync: false }),
  );
}

/** A logger that drops everything, for tests and tools. */
export const silentLogger: Logger = pino({ level: 'silent' });
