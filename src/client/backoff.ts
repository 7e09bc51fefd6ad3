// Delays between reconnection attempts: exponential, capped, with jitter.

/** Reconnection settings of {@link SigverClient}. */
export interface ReconnectOptions {
  /** Attempts before giving up. Default 10. */
  readonly maxAttempts?: number;
  /** Base delay before the first attempt, in milliseconds. Default 250. */
  readonly initialDelayMs?: number;
  /** Largest delay between two attempts, in milliseconds. Default 5_000. */
  readonly maxDelayMs?: number;
}

/** Defaults of {@link ReconnectOptions}. */
export const DEFAULT_RECONNECT = Object.freeze({ maxAttempts: 10, initialDelayMs: 250, maxDelayMs: 5_000 });

/**
 * Delay before attempt `attempt` (1-based): the base doubles each attempt
 * up to `maxDelayMs`, and the delay is drawn from [base/2, base] so that
 * many clients cut by the same outage do not come back in lockstep.
 * `random` returns a number in [0, 1).
 */
export function backoffDelayMs(
  attempt: number,
  options: Required<ReconnectOptions>,
  random: () => number = Math.random,
): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 30);
  const base = Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** exponent);
  return Math.round(base / 2 + (random() * base) / 2);
}
