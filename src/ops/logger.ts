// The command's logger: pino JSON lines, or pino-pretty's readable lines
// when the destination is a terminal. The library never builds one itself:
// it takes a logger from its embedder and logs nothing without one.

import { pino, type DestinationStream, type Logger } from 'pino';
import PinoPretty from 'pino-pretty';
import type { LogLevel } from '../options.js';

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

/**
 * Builds the logger of the `sigver` command. Writes are synchronous, so the
 * last lines survive `process.exit` and never interleave with stdout's.
 *
 * @example
 * const logger = createLogger({ level: 'info' }); // JSON on stderr, readable on a terminal
 */
export function createLogger(options: LoggerOptions): Logger {
  const fd = options.fd ?? 2;
  const base = {
    level: options.level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (options.stream !== undefined) return pino({ ...base, formatters: { level: (label) => ({ level: label }) } }, options.stream);
  const pretty = options.pretty ?? isTerminal(fd);
  if (pretty) {
    return pino(base, PinoPretty({ destination: fd, sync: true, colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,event', singleLine: true }));
  }
  return pino(
    { ...base, formatters: { level: (label) => ({ level: label }) } },
    pino.destination({ dest: fd, sync: true }),
  );
}

function isTerminal(fd: number): boolean {
  if (fd === 1) return process.stdout.isTTY === true;
  if (fd === 2) return process.stderr.isTTY === true;
  return false;
}
