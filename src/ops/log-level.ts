// The levels of the command's logs, kept apart from the logger itself so that
// the settings table can name them without loading pino.

/** Levels of `--log-level`, most severe first. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** The value of `--log-level`. */
export type LogLevel = (typeof LOG_LEVELS)[number];
