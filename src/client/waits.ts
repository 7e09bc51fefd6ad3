// Promise helpers for waits that end on an event, a timeout or an abort.

import { SigverClientError } from './client-error.js';

/** How long a wait may last and what may cut it short. */
export interface WaitOptions {
  /** Aborting rejects the wait with the signal's reason. */
  readonly signal?: AbortSignal | undefined;
  /** Rejects with a `TIMEOUT` error after this many milliseconds. */
  readonly timeoutMs?: number | undefined;
}

/**
 * Runs `start`, which subscribes to something and calls `resolve` or
 * `reject`; it returns its unsubscribe function. Settles at most once and
 * always unsubscribes, also on timeout or abort.
 */
export function settleOnce<T>(
  start: (resolve: (value: T) => void, reject: (error: unknown) => void) => () => void,
  { signal, timeoutMs }: WaitOptions,
  what: string,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason);
      return;
    }
    let done = false;
    let unsubscribe: () => void = () => {};
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finish = (): boolean => {
      if (done) return false;
      done = true;
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      unsubscribe();
      return true;
    };
    const onAbort = (): void => {
      if (finish()) reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort);
    if (timeoutMs !== undefined && Number.isFinite(timeoutMs)) {
      timer = setTimeout(() => {
        if (finish()) reject(new SigverClientError('TIMEOUT', `Timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
    }
    unsubscribe = start(
      (value) => {
        if (finish()) resolve(value);
      },
      (error) => {
        if (finish()) reject(error);
      },
    );
    // `start` may have settled synchronously, before `unsubscribe` was known.
    if (done) unsubscribe();
  });
}

/** Resolves after `ms` milliseconds; rejects with the signal's reason on abort. */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return settleOnce<void>(
    (resolve) => {
      const timer = setTimeout(resolve, ms);
      return () => clearTimeout(timer);
    },
    { signal },
    'a delay',
  );
}

/** A signal that aborts when any of `signals` does. */
export function anySignal(signals: readonly (AbortSignal | undefined)[]): AbortSignal {
  const present = signals.filter((s): s is AbortSignal => s !== undefined);
  const controller = new AbortController();
  for (const s of present) {
    if (s.aborted) {
      controller.abort(s.reason);
      return controller.signal;
    }
  }
  const onAbort = (event: Event): void => {
    for (const s of present) s.removeEventListener('abort', onAbort);
    controller.abort((event.target as AbortSignal).reason);
  };
  for (const s of present) s.addEventListener('abort', onAbort);
  return controller.signal;
}
