// The single-process backplane: keys live in a map, and there is no other
// process to talk to.

import type {
  Backplane,
  BackplaneHandler,
  Envelope,
  PeerIdAddress,
  RoomAddress,
  TopicPublication,
} from '../core/ports.js';

/** Key ownership for one process on its own. Every answer is synchronous. */
export class MemoryBackplane implements Backplane {
  readonly processId = 'local';
  private readonly keys = new Map<string, RoomAddress>();
  /** PeerJS ids by name (`realm/id`), apart from keys. */
  private readonly peers = new Map<string, PeerIdAddress>();

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

  post(processId: string, _envelope: Envelope): void {
    throw new Error(`MemoryBackplane has no process "${processId}" to post to`);
  }

  // Topics: every subscriber is in this process; there is nobody else to tell.
  joinTopic(_topic: string): void {}

  leaveTopic(_topic: string): void {}

  publish(_publication: TopicPublication): void {}

  claimPeerId(peer: PeerIdAddress): boolean {
    if (this.peers.has(peer.name)) return false;
    this.peers.set(peer.name, peer);
    return true;
  }

  releasePeerId(name: string): void {
    this.peers.delete(name);
  }

  locatePeerId(name: string): PeerIdAddress | undefined {
    return this.peers.get(name);
  }

  peerIds(realm: string, limit: number): string[] {
    const ids: string[] = [];
    const prefix = `${realm}/`;
    for (const name of this.peers.keys()) {
      if (ids.length >= limit) break;
      // Ids hold no "/": a name of this realm is the prefix and one id.
      if (name.startsWith(prefix) && !name.includes('/', prefix.length)) ids.push(name.slice(prefix.length));
    }
    return ids;
  }
}
