// The command's logger: pino JSON lines, or pino-pretty's readable lines
// when the destination is a terminal. The library never builds one itself:
// it takes a logger from its embedder and logs nothing without one.

import { pino, type DestinationStream, type Logger } from 'pino';
import PinoPretty from 'pino-pretty';
import type { LogLevel } from './log-level.js';

export type { Logger } from 'pino';

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Least severe level written, one of {@link LogLevel}; `silent` writes nothing. */
  readonly level: LogLevel | (string & {});
  /** File descriptor to write to. Default 2 (stderr): stdout carries the `sigver listening on` line alone. */
  readonly fd?: number;
  /** Readable lines instead of JSON. Default: when `fd` is a terminal. */
  readonly pretty?: boolean;
  /** A stream to write JSON lines to instead of `fd` (tests). */
  readonly stream?: DestinationStream;
}

/** How often buffered log lines are written out at the latest, ms. */
export const LOG_FLUSH_MS = 200;

/**
 * Builds the logger of the `sigver` command. JSON lines are buffered and
 * written in batches (at least every {@link LOG_FLUSH_MS} ms, and at exit):
 * a line per connection must not cost a system call per connection.
 * Readable (terminal) output is written at once.
 *
 * @example
 * const logger = createLogger({ level: 'info' }); // JSON on stderr, readable on a terminal
 */
export function createLogger(options: LoggerOptions): Logger {
  const fd = options.fd ?? 2;
  const base = {
    level: options.level,
    base: { pid: process.pid },
    // pino's default time, epoch milliseconds: an ISO string per line costs more than the rest of the line.
  };
  if (options.stream !== undefined)
    return pino({ ...base, formatters: { level: (label) => ({ level: label }) } }, options.stream);
  const pretty = options.pretty ?? isTerminal(fd);
  if (pretty) {
    return pino(
      base,
      PinoPretty({
        destination: fd,
        sync: true,
        colorize: true,
        translateTime: 'SYS:HH:MM:ss.l',
        ignore: 'pid,event',
        singleLine: true,
      }),
    );
  }
  // pino flushes an asynchronous destination when the process exits.
  const destination = pino.destination({ dest: fd, sync: false, minLength: 16_000 });
  // Flushed only when something was written since: a flush of nothing is
  // still a write through the thread pool, five times a second, idle or not.
  let written = false;
  const write = destination.write.bind(destination);
  destination.write = (chunk: string) => {
    written = true;
    return write(chunk);
  };
  setInterval(() => {
    if (!written) return;
    written = false;
    destination.flush();
  }, LOG_FLUSH_MS).unref();
  return pino({ ...base, formatters: { level: (label) => ({ level: label }) } }, destination);
}

function isTerminal(fd: number): boolean {
  if (fd === 1) return process.stdout.isTTY === true;
  if (fd === 2) return process.stderr.isTTY === true;
  return false;
}
