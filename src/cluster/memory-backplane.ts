// The single-process backplane: keys live in a map, and there is no other
// process to talk to.

import type { Backplane, BackplaneHandler, Envelope, RoomAddress } from '../core/ports.js';

/** Key ownership for one process on its own. Every answer is synchronous. */
export class MemoryBackplane implements Backplane {
  readonly processId = 'local';
  private readonly keys = new Map<string, RoomAddress | null>();

  attach(_handler: BackplaneHandler): void {}

  claim(key: string): boolean {
    if (this.keys.has(key)) return false;
    this.keys.set(key, null);
    return true;
  }

  release(key: string): void {
    this.keys.delete(key);
  }

  locate(key: string): RoomAddress | undefined {
    return this.keys.get(key) ?? undefined;
  }

  publish(room: RoomAddress): void {
    this.keys.set(room.key, room);
  }

  post(process: string, _envelope: Envelope): void {
    throw new Error(`MemoryBackplane has no process "${process}" to post to`);
  }
}
