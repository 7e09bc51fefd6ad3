// The single-process backplane: keys live in a map, and there is no other
// process to talk to.

import type { Backplane, BackplaneHandler, Envelope, RoomAddress, TopicPublication } from '../core/ports.js';

/** Key ownership for one process on its own. Every answer is synchronous. */
export class MemoryBackplane implements Backplane {
  readonly processId = 'local';
  private readonly keys = new Map<string, RoomAddress>();

  attach(_handler: BackplaneHandler): void {}

  claim(room: RoomAddress): boolean {
    if (this.keys.has(room.key)) return false;
    this.keys.set(room.key, room);
    return true;
  }

  release(key: string): void {
    this.keys.delete(key);
  }

  locate(key: string): RoomAddress | undefined {
    return this.keys.get(key);
  }

  post(process: string, _envelope: Envelope): void {
    throw new Error(`MemoryBackplane has no process "${process}" to post to`);
  }

  // Topics: every subscriber is in this process; there is nobody else to tell.
  joinTopic(_topic: string): void {}

  leaveTopic(_topic: string): void {}

  publish(_publication: TopicPublication): void {}
}
