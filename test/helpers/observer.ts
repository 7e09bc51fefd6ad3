// An observer a test can await: resolves once the server has processed a
// given number of connection ends (its hooks run before any later scrape or
// log read).

import { EventEmitter, once } from 'node:events';
import type { SignalingObserver } from '../../src/core/ports.js';

/** Counts the ends of connections the server has processed. */
export class CloseWatcher {
  private readonly events = new EventEmitter();
  private count = 0;
  /** The hooks to give the server as its `observer`. */
  readonly observer: SignalingObserver = {
    ended: () => {
      this.count += 1;
      this.events.emit('ended');
    },
  };

  /** Resolves once `n` connections in all have ended. */
  async ended(n: number): Promise<void> {
    while (this.count < n) await once(this.events, 'ended');
  }
}
