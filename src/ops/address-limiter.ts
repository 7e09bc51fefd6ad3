// The per-address connection limit: counts open connections by client
// address and refuses upgrades past the limit with HTTP 429.

import type { IncomingMessage } from 'node:http';

/** Counts open connections per client address. */
export class AddressLimiter {
  private readonly open = new Map<string, number>();

  /**
   * @param max Open connections allowed per address (at least 1).
   * @param addressOf The client address of a request (see `clientAddress`).
   */
  constructor(
    private readonly max: number,
    private readonly addressOf: (request: IncomingMessage) => string,
  ) {}

  /** An upgrade check: refuses with 429 when the request's address is at the limit. */
  check(request: IncomingMessage): { readonly status: 429; readonly message: string } | undefined {
    const count = this.open.get(this.addressOf(request)) ?? 0;
    return count >= this.max ? { status: 429, message: 'Too many connections from this address' } : undefined;
  }

  /** Counts an accepted connection; call the returned function once it has closed. */
  acquire(request: IncomingMessage): () => void {
    const address = this.addressOf(request);
    this.open.set(address, (this.open.get(address) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.open.get(address) ?? 1) - 1;
      if (left > 0) this.open.set(address, left);
      else this.open.delete(address);
    };
  }

  /** Open connections from `address`. */
  count(address: string): number {
    return this.open.get(address) ?? 0;
  }
}
