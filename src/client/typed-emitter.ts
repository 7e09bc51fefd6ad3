// A minimal typed event emitter that runs the same in browsers and Node.

import { settleOnce, type WaitOptions } from './waits.js';

/** A listener for events of map `Events`, type `K`. */
export type Listener<Events, K extends keyof Events> = (event: Events[K]) => void;

/** Options of {@link TypedEmitter.waitFor}. */
export interface WaitForOptions<T> extends WaitOptions {
  /** Only an event for which this returns true settles the wait. */
  readonly filter?: ((event: T) => boolean) | undefined;
}

/**
 * Typed events with `on`/`off` and a promise-returning `waitFor`. A listener
 * that throws does not stop the others: its error is rethrown asynchronously,
 * as `EventTarget` does, so it surfaces as an uncaught error.
 */
export class TypedEmitter<Events extends object> {
  readonly #listeners = new Map<keyof Events, Set<(event: never) => void>>();

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof Events>(type: K, listener: Listener<Events, K>): () => void {
    let set = this.#listeners.get(type);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(type, set);
    }
    set.add(listener as (event: never) => void);
    return () => this.off(type, listener);
  }

  /** Removes a listener added with {@link TypedEmitter.on}. */
  off<K extends keyof Events>(type: K, listener: Listener<Events, K>): void {
    this.#listeners.get(type)?.delete(listener as (event: never) => void);
  }

  /**
   * Resolves with the next event of `type` that passes `filter`; rejects on
   * timeout (`TIMEOUT`) or abort (the signal's reason).
   */
  waitFor<K extends keyof Events>(type: K, options: WaitForOptions<Events[K]> = {}): Promise<Events[K]> {
    const { filter } = options;
    return settleOnce<Events[K]>(
      (resolve) =>
        this.on(type, (event) => {
          if (filter === undefined || filter(event)) resolve(event);
        }),
      options,
      `event "${String(type)}"`,
    );
  }

  /** Calls every listener of `type` with `event`. */
  protected emit<K extends keyof Events>(type: K, event: Events[K]): void {
    const set = this.#listeners.get(type);
    if (set === undefined) return;
    for (const listener of [...set]) {
      try {
        (listener as Listener<Events, K>)(event);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}
