// One key's room: its host, its joiners and their ids, the queue of joiners
// waiting for an answer, and the resume grace. Pure logic: it hears commands
// from sessions and answers with effects, wherever those sessions live.

import {
  CLOSES,
  HOST_LEFT_FRAME,
  joinFrame,
  leaveFrame,
  readJoinerId,
  relayFrame,
  type Dialect,
  type ErrorCode,
  type RelayKind,
} from '../protocol/index.js';
import { sameSecret } from './same-secret.js';
import { OfferQueue } from './offer-queue.js';
import type { Clock, PeerAddress, PeerEffect, RoomAddress, RoomCommand, SignalingObserver, Timer } from './ports.js';

/** What a room needs from the process that keeps it. */
export interface RoomContext {
  readonly maxJoiners: number;
  readonly maxPendingOffers: number;
  readonly resumeGraceMs: number;
  readonly clock: Clock;
  readonly observer: SignalingObserver;
  /** Delivers an effect to a session, local or remote. */
  tell(peer: PeerAddress, effect: PeerEffect): void;
  /** Sends a frame to a session, local or remote (the common effect, without an effect object). */
  send(peer: PeerAddress, text: string): void;
  /** The room is over: its key must be freed. */
  dissolved(room: Room): void;
  /** Counts over every room of the process, kept up to date by the rooms (a scrape reads them, never walks rooms). */
  readonly tally: RoomTally;
}

/** Counts over every room of a process. */
export interface RoomTally {
  /** Joiners attached. */
  joiners: number;
  /** Hosts away within their resume grace. */
  hostsAway: number;
}

interface Joiner {
  readonly address: PeerAddress;
  readonly dialect: Dialect;
  readonly joinedAt: number;
  /** Has received at least one answer (decides the v0 host-leaving rule). */
  answered: boolean;
  /** Has been queued for an answer: a v0 joiner is queued once in its life. */
  queued: boolean;
  /** Offers from the host that this joiner has not answered yet. */
  hostOffers: number;
}

// Most rooms are a host waiting alone: they share these empty collections
// until a joiner or an offer arrives (idle keys are what a server holds most).
const NO_JOINERS: ReadonlyMap<number, Joiner> = new Map();

/**
 * What a joiner is told when its host is gone for good: a v1 joiner gets
 * `{"leave":0}` and no role; a v0 joiner stays if it was answered, else it is
 * closed 1008 (PROTOCOL.md, v0).
 */
export function hostGoneEffect(dialect: Dialect, answered: boolean): PeerEffect {
  if (dialect === 'v1') return { type: 'released', text: HOST_LEFT_FRAME, close: null };
  if (answered) return { type: 'orphaned' };
  return { type: 'released', text: null, close: CLOSES.PEER_GONE };
}

/** True when both addresses name the same connection. */
export function sameAddress(a: PeerAddress, b: PeerAddress): boolean {
  return a.conn === b.conn && a.process === b.process;
}

/** The state of one registered key. */
export class Room {
  /** The live host, or null while it is away within the resume grace. */
  private host: PeerAddress | null;
  private joiners = NO_JOINERS as Map<number, Joiner>;
  private nextId = 1;
  /** Joiners waiting for an answer, created by the first queued offer. */
  private offers: OfferQueue | null = null;
  private grace: Timer | null = null;
  /** The host is away within its grace (counted in the tally). */
  private away = false;

  constructor(
    private readonly ctx: RoomContext,
    readonly address: RoomAddress,
    host: PeerAddress,
    private readonly hostDialect: Dialect,
    /** The v1 resume token; null for v0 hosts, which cannot resume. */
    readonly token: string | null,
  ) {
    this.host = host;
  }

  /** Number of attached joiners. */
  get joinerCount(): number {
    return this.joiners.size;
  }

  /** Whether the host is away within its resume grace. */
  get hostAway(): boolean {
    return this.host === null;
  }

  /** The host (null while away) and the joiners, by id. */
  members(): { host: PeerAddress | null; joiners: Array<{ id: number; address: PeerAddress }> } {
    return {
      host: this.host,
      joiners: [...this.joiners].map(([id, joiner]) => ({ id, address: joiner.address })),
    };
  }

  /** Whether a grace timer is pending. */
  get graceRunning(): boolean {
    return this.grace !== null;
  }

  /** Applies one command from a session. */
  handle(command: RoomCommand): void {
    switch (command.type) {
      case 'join':
        return this.join(command.from, command.dialect);
      case 'resume':
        return this.resume(command.from, command.token);
      case 'from-joiner':
        return this.fromJoiner(command.from, command.id, command.kind, command.data);
      case 'from-host':
        return this.fromHost(command.from, command.kind, command.data, command.id);
      case 'joiner-gone':
        return this.joinerGone(command.from, command.id);
      case 'host-gone':
        return this.hostGone(command.from, command.abrupt);
    }
  }

  /** Every participant on `process` is gone (that process died). */
  processLost(processId: string): void {
    for (const [id, joiner] of [...this.joiners]) {
      if (joiner.address.process === processId) this.joinerGone(joiner.address, id);
    }
    if (this.host !== null && this.host.process === processId) this.hostGone(this.host, true);
  }

  /**
   * The key was taken from this process (its claim lapsed): the host is let
   * go with a 1011 close and the room ends at once.
   */
  revoke(): void {
    const host = this.host;
    this.host = null;
    if (host !== null) this.ctx.tell(host, { type: 'released', text: null, close: CLOSES.BACKPLANE_LOST });
    this.dissolve();
  }

  /** Ends the room at once, as if its host had left on purpose. */
  dissolve(): void {
    this.grace?.cancel();
    this.grace = null;
    const joiners = [...this.joiners.values()];
    this.ctx.tally.joiners -= joiners.length;
    this.markAway(false);
    this.joiners = NO_JOINERS as Map<number, Joiner>;
    this.offers = null;
    this.ctx.dissolved(this);
    for (const joiner of joiners) this.ctx.tell(joiner.address, hostGoneEffect(joiner.dialect, joiner.answered));
  }

  private refuse(peer: PeerAddress, code: ErrorCode): void {
    this.ctx.tell(peer, { type: 'refuse', code });
  }

  private send(peer: PeerAddress, text: string): void {
    this.ctx.send(peer, text);
  }

  private join(from: PeerAddress, dialect: Dialect): void {
    if (this.host === null) return this.refuse(from, dialect === 'v1' ? 'HOST_AWAY' : 'KEY_UNKNOWN');
    if (this.joiners.size >= this.ctx.maxJoiners) return this.refuse(from, 'KEY_FULL');
    const id = this.nextId++;
    if (this.joiners === NO_JOINERS) this.joiners = new Map();
    this.joiners.set(id, {
      address: from,
      dialect,
      joinedAt: this.ctx.clock.now(),
      answered: false,
      queued: false,
      hostOffers: 0,
    });
    this.ctx.tally.joiners += 1;
    this.ctx.tell(from, { type: 'joined', room: this.address, id });
    if (this.hostDialect === 'v1') this.send(this.host, joinFrame(id));
  }

  private resume(from: PeerAddress, token: string): void {
    if (this.token === null || !sameSecret(token, this.token)) return this.refuse(from, 'KEY_TAKEN');
    this.grace?.cancel();
    this.grace = null;
    const previous = this.host;
    this.host = from;
    this.markAway(false);
    if (previous !== null) this.ctx.tell(previous, { type: 'released', text: null, close: CLOSES.REPLACED });
    this.ctx.tell(from, { type: 'hosting', room: this.address, token: this.token });
    for (const id of this.joiners.keys()) this.send(from, joinFrame(id));
  }

  /** A relay from joiner `id` (payload as JSON text). */
  fromJoiner(from: PeerAddress, id: number, kind: RelayKind, data: string): void {
    const joiner = this.joiners.get(id);
    if (joiner === undefined || !sameAddress(joiner.address, from)) return;
    if (this.host === null) return this.refuse(from, 'HOST_AWAY');
    if (kind === 'answer') {
      if (joiner.hostOffers === 0) return this.refuse(from, 'NO_PENDING_OFFER');
      joiner.hostOffers -= 1;
    } else if (kind === 'offer' && (joiner.dialect === 'v1' || !joiner.queued)) {
      // A v0 joiner's later offers are its ICE candidates (Netflux, 2016): they
      // are forwarded but must not take the answers of the joiners behind it.
      const offers = (this.offers ??= new OfferQueue());
      // Refused, not forwarded: an offer with no place in the queue could never be answered.
      if (offers.size >= this.ctx.maxPendingOffers) return this.refuse(from, 'TOO_MANY_OFFERS');
      joiner.queued = true;
      offers.push(id);
    }
    this.send(this.host, relayFrame(kind, data, this.hostDialect === 'v1' ? id : undefined));
    this.ctx.observer.relayed?.(kind);
  }

  /** A relay from the host, to the joiner its `id` names (payload as JSON text). */
  fromHost(from: PeerAddress, kind: RelayKind, data: string, rawId: unknown): void {
    if (this.host === null || !sameAddress(this.host, from)) return;
    // A v0 host knows no ids: fields beside a v0 field are ignored.
    const id = this.hostDialect === 'v1' ? readJoinerId(rawId) : undefined;
    if (id !== undefined && !this.joiners.has(id)) return this.refuse(from, 'UNKNOWN_ID');
    if (kind === 'answer') return this.answerFromHost(from, data, id);
    const target = id ?? this.onlyJoinerId();
    if (target === undefined) return this.refuse(from, 'ID_REQUIRED');
    const joiner = this.joiners.get(target)!;
    if (kind === 'offer') {
      if (joiner.dialect === 'v0') return this.refuse(from, 'JOINER_V0');
      joiner.hostOffers += 1;
    }
    this.send(joiner.address, relayFrame(kind, data));
    this.ctx.observer.relayed?.(kind);
  }

  private answerFromHost(from: PeerAddress, data: string, id: number | undefined): void {
    let target: number | undefined;
    if (id === undefined) target = this.offers?.shift();
    else if (this.offers?.take(id) === true) target = id;
    if (target === undefined) {
      // v0 drops an answer nobody waits for; v1 says so.
      if (this.hostDialect === 'v1') this.refuse(from, 'NO_PENDING_OFFER');
      return;
    }
    const joiner = this.joiners.get(target)!;
    if (!joiner.answered) {
      joiner.answered = true;
      this.ctx.observer.handshake?.(this.ctx.clock.now() - joiner.joinedAt);
    }
    this.ctx.tell(joiner.address, { type: 'answer', text: relayFrame('answer', data) });
    this.ctx.observer.relayed?.('answer');
  }

  private onlyJoinerId(): number | undefined {
    if (this.joiners.size !== 1) return undefined;
    return this.joiners.keys().next().value;
  }

  private joinerGone(from: PeerAddress, id: number): void {
    const joiner = this.joiners.get(id);
    if (joiner === undefined || !sameAddress(joiner.address, from)) return;
    this.joiners.delete(id);
    this.ctx.tally.joiners -= 1;
    this.offers?.removeJoiner(id);
    if (this.host !== null && this.hostDialect === 'v1') this.send(this.host, leaveFrame(id));
  }

  private hostGone(from: PeerAddress, abrupt: boolean): void {
    if (this.host === null || !sameAddress(this.host, from)) return;
    if (abrupt && this.token !== null && this.ctx.resumeGraceMs > 0) {
      this.host = null;
      this.markAway(true);
      this.grace = this.ctx.clock.setTimer(this.ctx.resumeGraceMs, () => {
        this.grace = null;
        this.dissolve();
      });
      return;
    }
    this.dissolve();
  }

  private markAway(away: boolean): void {
    if (this.away === away) return;
    this.away = away;
    this.ctx.tally.hostsAway += away ? 1 : -1;
  }
}
