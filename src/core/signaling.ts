// The signaling core: turns each connection's frames into decisions (relay,
// refuse, close) and keeps the rooms of the keys this process owns. No I/O:
// sockets, time, randomness and other processes are reached through ports.

import {
  CLOSES,
  ERRORS,
  REACHABLE_FRAME,
  YWEBRTC_PONG_FRAME,
  errorFrame,
  isYWebrtcFrame,
  normalizeKey,
  PEERJS_ID_TAKEN_FRAME,
  parseClientMessage,
  peerJsErrorFrame,
  parseYWebrtcFrame,
  pongFrame,
  registeredFrame,
  relayText,
  utf8Length,
  yWebrtcPublishFrame,
  type ClientMessage,
  type CloseSpec,
  type Dialect,
  type ErrorCode,
  type RelayKind,
} from '../protocol/index.js';
import type {
  Backplane,
  BackplaneHandler,
  Clock,
  DeliveryFailure,
  EndKind,
  Envelope,
  MaybePromise,
  PeerAddress,
  PeerEffect,
  PeerSocket,
  RoomAddress,
  RoomCommand,
  SecretSource,
  SignalingObserver,
} from './ports.js';
import {
  DEFAULT_PEER_DIRECTORY_LIMITS,
  PeerDirectory,
  type PeerDirectoryLimits,
  type PeerDirectoryStats,
} from './peer-directory.js';
import { RateLimit } from './rate-limiter.js';
import { Census, type ConnectionCensus } from './census.js';
import { hostGoneEffect, Room, type RoomContext, type RoomTally } from './room.js';
import { ANY_KEY, NO_ROLE, roleName, type Role, type Session, type SessionGrant } from './session.js';
import { DEFAULT_TOPIC_LIMITS, TopicHub, type TopicLimits } from './topics.js';
import { answerToUndelivered, type Undelivered } from './undelivered.js';

/** The limits the core enforces (topic and PeerJS limits: defaults when absent). */
export interface SignalingLimits extends Partial<TopicLimits> {
  /** The PeerJS mailboxes' bounds and expiry. */
  readonly peerjs?: Partial<PeerDirectoryLimits>;
  /** Joiners per key. */
  readonly maxJoiners: number;
  /** Joiner offers waiting for an answer per key (the answer queue's length). */
  readonly maxPendingOffers: number;
  /** How long a dropped v1 host keeps its key, ms. */
  readonly resumeGraceMs: number;
  /** Messages per second per connection. */
  readonly rateLimit: number;
  /** Burst allowance of the rate limit, messages. */
  readonly rateBurst: number;
}

/** What the core is built from. */
export interface SignalingDeps {
  readonly limits: SignalingLimits;
  readonly backplane: Backplane;
  readonly clock: Clock;
  readonly secret: SecretSource;
  readonly observer?: SignalingObserver;
}

/** Counts for health checks and tests. */
export interface SignalingStats {
  readonly connections: number;
  /** Keys whose room lives in this process (hosts away within their grace included). */
  readonly keys: number;
  readonly joiners: number;
  readonly hostsAway: number;
}

/** Counts of y-webrtc topics in this process. */
export interface TopicStats {
  /** Topics with a subscriber in this process. */
  readonly topics: number;
  /** Subscriptions of this process's connections, all topics together. */
  readonly subscriptions: number;
}

export type { ConnectionCensus } from './census.js';

/** Every session and room of this process, for tests and debugging. */
export interface SignalingSnapshot {
  readonly sessions: ReadonlyArray<{ readonly conn: number; readonly role: Session['role'] }>;
  readonly rooms: ReadonlyArray<{
    readonly key: string;
    readonly host: PeerAddress | null;
    readonly joiners: ReadonlyArray<{ readonly id: number; readonly address: PeerAddress }>;
    readonly graceRunning: boolean;
  }>;
}

/** Signaling for one process. */
export class Signaling implements BackplaneHandler {
  private readonly sessions = new Map<number, Session>();
  private readonly rooms = new Map<string, Room>();
  /** Keys this process is claiming, with the lookups of them that wait for the claim. */
  private readonly claims = new Map<string, Array<() => void>>();
  private readonly roomContext: RoomContext;
  private readonly tally: RoomTally = { joiners: 0, hostsAway: 0 };
  private readonly connections = new Census();
  private readonly topics: TopicHub;
  private readonly peers: PeerDirectory;
  private readonly rateLimit: RateLimit;
  private readonly observer: SignalingObserver;
  private readonly processId: string;
  private nextConn = 1;
  private nextRoom = 1;

  constructor(private readonly deps: SignalingDeps) {
    this.observer = deps.observer ?? {};
    this.processId = deps.backplane.processId;
    this.rateLimit = new RateLimit(deps.limits.rateLimit, deps.limits.rateBurst);
    this.roomContext = {
      maxJoiners: deps.limits.maxJoiners,
      maxPendingOffers: deps.limits.maxPendingOffers,
      resumeGraceMs: deps.limits.resumeGraceMs,
      clock: deps.clock,
      observer: this.observer,
      tell: (peer, effect) => this.tell(peer, effect),
      send: (peer, text) => this.send(peer, text),
      dissolved: (room) => this.roomDissolved(room),
      tally: this.tally,
    };
    const { limits } = deps;
    this.topics = new TopicHub({
      limits: {
        maxTopics: limits.maxTopics ?? DEFAULT_TOPIC_LIMITS.maxTopics,
        maxTopicMembers: limits.maxTopicMembers ?? DEFAULT_TOPIC_LIMITS.maxTopicMembers,
        maxPublishBytes: limits.maxPublishBytes ?? DEFAULT_TOPIC_LIMITS.maxPublishBytes,
      },
      backplane: deps.backplane,
      observer: this.observer,
      frame: yWebrtcPublishFrame,
      refused: (session, code) => this.refuse(session, code),
    });
    this.peers = new PeerDirectory({
      limits: { ...DEFAULT_PEER_DIRECTORY_LIMITS, ...limits.peerjs },
      backplane: deps.backplane,
      clock: deps.clock,
      observer: this.observer,
      refuse: (session, code) => this.refuse(session, code),
      close: (session, spec) => this.close(session, spec),
    });
    deps.backplane.attach(this);
  }

  /**
   * A PeerJS connection (opened with dialect `peerjs`) asks for `id` in
   * `realm`, with its session `token`; or, with `error`, it is refused
   * before that (bad query, bad access token): ERROR with that text, then
   * the connection is closed, as `peer` does.
   */
  helloPeerJs(
    session: Session,
    hello: { readonly realm: string; readonly id: string; readonly token: string } | { readonly error: string },
  ): void {
    if ('error' in hello) {
      this.observer.refused?.(session.address.conn, session.dialect, 'INVALID_MESSAGE');
      session.socket.send(peerJsErrorFrame(hello.error));
      return this.close(session, { code: 1008, reason: hello.error.slice(0, 120) });
    }
    this.peers.register(session, hello.realm, hello.id, hello.token);
  }

  /** Up to `limit` peer ids of a PeerJS realm, all processes together (discovery). */
  peerIds(realm: string, limit: number): MaybePromise<string[]> {
    return this.peers.peerIds(realm, limit);
  }

  /** Counts of PeerJS ids and mailboxes in this process. */
  peerStats(): PeerDirectoryStats {
    return this.peers.stats();
  }

  /**
   * Registers a new connection and returns its session. `grant` restricts
   * what it may do (from its access token); default: anything.
   */
  open(socket: PeerSocket, dialect: Dialect, grant: SessionGrant = ANY_KEY): Session {
    const conn = this.nextConn++;
    const session: Session = {
      address: { process: this.processId, conn },
      dialect,
      grant,
      socket,
      tokens: this.rateLimit.burst,
      refilledAt: this.deps.clock.now(),
      role: NO_ROLE,
      undecided: dialect === 'v0',
      backlog: null,
      draining: false,
      released: false,
      answered: false,
    };
    this.sessions.set(conn, session);
    this.connections.count(dialect, 'none', 1);
    this.observer.opened?.(conn, dialect);
    return session;
  }

  /** Handles one text frame from a connection. */
  receive(session: Session, text: string): void {
    if (session.released) return;
    if (!this.rateLimit.take(session, this.deps.clock.now())) {
      this.observer.rateLimited?.(session.address.conn);
      this.close(session, CLOSES.RATE_LIMITED);
      return;
    }
    if (session.undecided) {
      session.undecided = false;
      if (isYWebrtcFrame(text)) {
        this.connections.move('v0', roleName(session.role), 'ywebrtc', roleName(session.role));
        session.dialect = 'ywebrtc';
        this.observer.recognised?.(session.address.conn, 'v0', 'ywebrtc');
      }
    }
    if (session.dialect === 'ywebrtc') return this.onYWebrtc(session, text);
    if (session.dialect === 'peerjs') return this.peers.receive(session, text);
    if (session.role.kind === 'waiting') {
      (session.backlog ??= []).push(text);
      return;
    }
    this.dispatch(session, text);
  }

  /** A frame of y-webrtc's protocol; what it does not understand is ignored, as its own server does. */
  private onYWebrtc(session: Session, text: string): void {
    const message = parseYWebrtcFrame(text);
    switch (message?.type) {
      case 'subscribe':
        return this.topics.subscribe(session, message.topics);
      case 'unsubscribe':
        return this.topics.unsubscribe(session, message.topics);
      case 'publish':
        return this.topics.publish(session, message.topic, message.data, utf8Length(text));
      case 'ping':
        return session.socket.send(YWEBRTC_PONG_FRAME);
      case undefined:
        return;
    }
  }

  /**
   * Closes a connection for a violation (or any reason of the server's) and
   * releases its state at once: its partners see it leave, with no grace.
   */
  close(session: Session, spec: CloseSpec): void {
    if (session.released) return;
    this.release(session, false);
    session.socket.close(spec.code, spec.reason);
  }

  /** The connection has ended. Abrupt ends (no close frame) give a v1 host its resume grace. */
  ended(session: Session, kind: EndKind, code: number, reason: string): void {
    const role = roleName(session.role);
    if (!session.released) this.release(session, kind === 'abrupt');
    this.observer.ended?.(session.address.conn, session.dialect, role, code, reason);
  }

  /** Current counts (kept up to date: no walk). */
  stats(): SignalingStats {
    const { joiners, hostsAway } = this.tally;
    return { connections: this.sessions.size, keys: this.rooms.size, joiners, hostsAway };
  }

  /** Current counts of topics. */
  topicStats(): TopicStats {
    return { topics: this.topics.topicCount, subscriptions: this.topics.subscriptionCount };
  }

  /** Open connections by dialect and role, now (kept up to date: no walk). */
  census(): ConnectionCensus {
    return this.connections.read();
  }

  /** Sets a session's role; the census counts only sessions that are not released. */
  private setRole(session: Session, role: Role): void {
    if (!session.released)
      this.connections.move(session.dialect, roleName(session.role), session.dialect, roleName(role));
    session.role = role;
  }

  /** Every session and room, as plain data. */
  snapshot(): SignalingSnapshot {
    return {
      sessions: [...this.sessions.values()].map((s) => ({ conn: s.address.conn, role: s.role })),
      rooms: [...this.rooms.values()].map((room) => ({
        key: room.address.key,
        ...room.members(),
        graceRunning: room.graceRunning,
      })),
    };
  }

  /**
   * Closes every connection with `spec` (shutdown). Each connection gets that
   * close and nothing else: no `leave` or peer-gone close on the way out.
   */
  closeAll(spec: CloseSpec): void {
    const sessions = [...this.sessions.values()];
    // Released first, so effects of the rooms ending below reach none of them.
    for (const session of sessions) {
      session.released = true;
      session.backlog = null;
    }
    this.sessions.clear();
    for (const session of sessions) {
      this.leaveRoom(session, false);
      this.topics.leaveAll(session);
      this.peers.leave(session);
      session.socket.close(spec.code, spec.reason);
    }
    this.peers.clear();
    this.dissolveAll();
  }

  /** Ends every room at once (shutdown): keys are freed, no grace. */
  dissolveAll(): void {
    for (const room of [...this.rooms.values()]) room.dissolve();
  }

  /** An envelope from another process. */
  deliver(envelope: Envelope): void {
    if (envelope.to === 'room') this.toRoom(envelope.room, envelope.command);
    else if (envelope.to === 'peer') this.tell(envelope.peer, envelope.effect);
    else if (envelope.to === 'peer-id') this.peers.delivered(envelope);
    else this.topics.delivered(envelope);
  }

  /** An envelope this process posted reached nobody: what waits for an answer gets one. */
  undelivered(envelope: Envelope, why: DeliveryFailure): void {
    this.answerUndelivered(envelope, why);
  }

  private answerUndelivered(envelope: Envelope, why: Undelivered): void {
    const answer = answerToUndelivered(envelope, why);
    if (answer !== null) this.deliver(answer);
  }

  /** Another process died: its rooms are gone and so are its peers. */
  processLost(processId: string): void {
    this.peers.processLost(processId);
    for (const room of [...this.rooms.values()]) room.processLost(processId);
    for (const session of this.sessions.values()) {
      const role = session.role;
      if (role.kind === 'waiting') {
        // The room this request went to died with its process: no answer will come.
        if (role.room === null || role.room.process !== processId) continue;
        if (role.request === 'resume') this.register(session, role.key);
        else this.refuseWaiting(session, 'KEY_UNKNOWN');
        continue;
      }
      if ((role.kind !== 'host' && role.kind !== 'joiner') || role.room.process !== processId) continue;
      if (role.kind === 'host') this.close(session, CLOSES.BACKPLANE_LOST);
      else this.applyEffect(session, hostGoneEffect(session.dialect, session.answered));
    }
  }

  /** Another process took a key this process held: its room here ends. */
  keyLost(key: string): void {
    this.rooms.get(key)?.revoke();
  }

  /** Another process took a PeerJS id this process held: its connection here gets ID-TAKEN. */
  peerIdLost(name: string): void {
    this.peers.peerIdLost(name);
  }

  private release(session: Session, abrupt: boolean): void {
    session.released = true;
    session.backlog = null;
    this.sessions.delete(session.address.conn);
    this.connections.count(session.dialect, roleName(session.role), -1);
    this.leaveRoom(session, abrupt);
    this.topics.leaveAll(session);
    this.peers.leave(session);
  }

  /** The session drops its role; its room hears that its host or joiner is gone. */
  private leaveRoom(session: Session, abrupt: boolean): void {
    const role = session.role;
    this.setRole(session, NO_ROLE);
    if (role.kind === 'host') this.toRoom(role.room, { type: 'host-gone', from: session.address, abrupt });
    else if (role.kind === 'joiner')
      this.toRoom(role.room, { type: 'joiner-gone', from: session.address, id: role.id });
  }

  private dispatch(session: Session, text: string): void {
    const message = parseClientMessage(text, session.dialect);
    if (message === 'not-json') return this.close(session, CLOSES.NOT_JSON);
    if (message === 'unsupported') return this.refuse(session, 'UNSUPPORTED');
    switch (message.type) {
      case 'key':
        return this.onKey(session, message.key, message.token);
      case 'joinkey':
        return this.onJoinKey(session, message.key);
      case 'ping':
        return session.socket.send(pongFrame(relayText(text, 'ping', message.data)));
      default:
        return this.onRelay(session, message, text);
    }
  }

  private refuse(session: Session, code: ErrorCode): void {
    this.observer.refused?.(session.address.conn, session.dialect, code);
    // y-webrtc's server answers nothing, and its client expects nothing.
    if (session.dialect === 'ywebrtc') return;
    if (session.dialect === 'peerjs') {
      // As `peer`: one message the PeerJS client reports (unavailable-id, server-error), then the close.
      session.socket.send(code === 'ID_TAKEN' ? PEERJS_ID_TAKEN_FRAME : peerJsErrorFrame(ERRORS[code].message));
      return this.close(session, ERRORS[code].v0);
    }
    if (session.dialect === 'v1') session.socket.send(errorFrame(code));
    else this.close(session, ERRORS[code].v0);
  }

  private onKey(session: Session, rawKey: unknown, token: unknown): void {
    if (session.role.kind !== 'none') return this.refuse(session, 'ROLE_SET');
    if (session.dialect === 'v1' && rawKey === null) {
      // A generated key is never the one key a restricted connection may use.
      if (session.grant.allowedKey !== null) return this.refuse(session, 'KEY_FORBIDDEN');
      return this.register(session, this.deps.secret());
    }
    const key = normalizeKey(rawKey);
    if (key === undefined) return this.refuse(session, 'INVALID_KEY');
    if (!allows(session.grant, key)) return this.refuse(session, 'KEY_FORBIDDEN');
    if (session.dialect === 'v1' && typeof token === 'string') return this.resume(session, key, token);
    this.register(session, key);
  }

  private register(session: Session, key: string): void {
    this.setRole(session, { kind: 'waiting', request: 'register', key, room: null });
    const address: RoomAddress = { key, process: this.processId, room: this.nextRoom++ };
    const claim = this.deps.backplane.claim(address);
    // While a claim of this process is on its way, lookups of its key here
    // wait for it, so that peers on one process never see the gap.
    const first = claim instanceof Promise && !this.claims.has(key);
    if (first) this.claims.set(key, []);
    const settled = (): void => {
      if (!first) return;
      const waiting = this.claims.get(key) ?? [];
      this.claims.delete(key);
      for (const lookup of waiting) lookup();
    };
    settle(
      claim,
      (claimed) => {
        this.claimed(session, address, claimed);
        settled();
      },
      () => {
        this.refuseWaiting(session, 'UNAVAILABLE');
        settled();
      },
    );
  }

  private claimed(session: Session, address: RoomAddress, claimed: boolean): void {
    const { key } = address;
    if (session.released) {
      if (claimed) this.deps.backplane.release(key);
      return;
    }
    if (!claimed) return this.refuseWaiting(session, 'KEY_TAKEN');
    const token = session.dialect === 'v1' ? this.deps.secret() : null;
    this.rooms.set(key, new Room(this.roomContext, address, session.address, session.dialect, token));
    this.observer.keyRegistered?.(key);
    this.applyEffect(session, { type: 'hosting', room: address, token });
  }

  private resume(session: Session, key: string, token: string): void {
    this.setRole(session, { kind: 'waiting', request: 'resume', key, room: null });
    this.withRoom(session, key, (room) => {
      if (room === undefined) return this.register(session, key);
      this.setRole(session, { kind: 'waiting', request: 'resume', key, room });
      this.toRoom(room, { type: 'resume', from: session.address, token });
    });
  }

  private onJoinKey(session: Session, rawKey: unknown): void {
    if (session.role.kind !== 'none') return this.refuse(session, 'ROLE_SET');
    const key = normalizeKey(rawKey);
    if (key === undefined) return this.refuse(session, 'INVALID_KEY');
    if (!allows(session.grant, key)) return this.refuse(session, 'KEY_FORBIDDEN');
    this.setRole(session, { kind: 'waiting', request: 'join', key, room: null });
    this.withRoom(session, key, (room) => {
      if (room === undefined) return this.refuseWaiting(session, 'KEY_UNKNOWN');
      this.setRole(session, { kind: 'waiting', request: 'join', key, room });
      this.toRoom(room, { type: 'join', from: session.address, dialect: session.dialect });
    });
  }

  /** Finds the room of `key`: here if it lives here, else through the backplane. */
  private withRoom(session: Session, key: string, then: (room: RoomAddress | undefined) => void): void {
    const local = this.rooms.get(key);
    if (local !== undefined) return then(local.address);
    const claim = this.claims.get(key);
    if (claim !== undefined) {
      claim.push(() => {
        if (!session.released) this.withRoom(session, key, then);
      });
      return;
    }
    settle(
      this.deps.backplane.locate(key),
      (room) => {
        if (!session.released) then(room);
      },
      () => this.refuseWaiting(session, 'UNAVAILABLE'),
    );
  }

  private onRelay(session: Session, message: Extract<ClientMessage, { type: RelayKind }>, text: string): void {
    const role = session.role;
    const kind = message.type;
    if (role.kind === 'host') {
      if (session.dialect === 'v0' && kind === 'offer') return this.refuse(session, 'NOT_JOINED');
      const data = relayText(text, kind, message.data);
      const room = this.localRoom(role.room);
      if (room !== undefined) return room.fromHost(session.address, kind, data, message.id);
      return this.toRoom(role.room, { type: 'from-host', from: session.address, kind, data, id: message.id });
    }
    if (kind === 'answer' && (session.dialect === 'v0' || role.kind !== 'joiner')) {
      return this.refuse(session, 'NOT_HOST');
    }
    if (role.kind === 'joiner') {
      const data = relayText(text, kind, message.data);
      const room = this.localRoom(role.room);
      if (room !== undefined) return room.fromJoiner(session.address, role.id, kind, data);
      return this.toRoom(role.room, { type: 'from-joiner', from: session.address, id: role.id, kind, data });
    }
    // A v0 joiner whose host is gone: its offer has nobody to go to.
    if (role.kind === 'orphan') return this.refuse(session, 'HOST_AWAY');
    this.refuse(session, 'NOT_JOINED');
  }

  /** The room at `address` if it lives in this process (relays call it directly: no command object). */
  private localRoom(address: RoomAddress): Room | undefined {
    if (address.process !== this.processId) return undefined;
    const room = this.rooms.get(address.key);
    return room !== undefined && room.address.room === address.room ? room : undefined;
  }

  private send(peer: PeerAddress, text: string): void {
    if (peer.process !== this.processId)
      return this.deps.backplane.post(peer.process, { to: 'peer', peer, effect: { type: 'send', text } });
    this.sessions.get(peer.conn)?.socket.send(text);
  }

  private toRoom(address: RoomAddress, command: RoomCommand): void {
    if (address.process !== this.processId) {
      this.deps.backplane.post(address.process, { to: 'room', room: address, command });
      return;
    }
    const room = this.rooms.get(address.key);
    if (room !== undefined && room.address.room === address.room) return room.handle(command);
    // Another process may locate a room whose claim holds before this process
    // hears back from Redis: its commands wait for the claim here.
    const claim = this.claims.get(address.key);
    if (claim !== undefined) {
      claim.push(() => this.toRoom(address, command));
      return;
    }
    // The room ended while this command was on its way.
    this.answerUndelivered({ to: 'room', room: address, command }, 'ended');
  }

  private tell(peer: PeerAddress, effect: PeerEffect): void {
    if (peer.process !== this.processId) {
      this.deps.backplane.post(peer.process, { to: 'peer', peer, effect });
      return;
    }
    const session = this.sessions.get(peer.conn);
    if (session !== undefined) return this.applyEffect(session, effect);
    // The peer left, perhaps while it was being attached.
    this.answerUndelivered({ to: 'peer', peer, effect }, 'ended');
  }

  private applyEffect(session: Session, effect: PeerEffect): void {
    switch (effect.type) {
      case 'answer':
        session.answered = true;
        return session.socket.send(effect.text);
      case 'send':
        return session.socket.send(effect.text);
      case 'refuse': {
        const role = session.role;
        if (role.kind === 'waiting' && role.request === 'resume' && effect.code === 'KEY_UNKNOWN') {
          // The room ended between lookup and resume: the key is free, so register it.
          return this.register(session, role.key);
        }
        if (role.kind === 'waiting') return this.refuseWaiting(session, effect.code);
        return this.refuse(session, effect.code);
      }
      case 'hosting':
        this.setRole(session, { kind: 'host', room: effect.room });
        if (effect.token !== null) session.socket.send(registeredFrame(effect.room.key, effect.token));
        return this.drain(session);
      case 'joined':
        this.setRole(session, { kind: 'joiner', room: effect.room, id: effect.id });
        session.socket.send(REACHABLE_FRAME);
        return this.drain(session);
      case 'released':
        this.setRole(session, NO_ROLE);
        if (effect.text !== null) session.socket.send(effect.text);
        if (effect.close !== null) this.close(session, effect.close);
        return;
      case 'orphaned':
        this.setRole(session, { kind: 'orphan' });
        return;
    }
  }

  private refuseWaiting(session: Session, code: ErrorCode): void {
    if (session.released) return;
    this.setRole(session, NO_ROLE);
    this.refuse(session, code);
    this.drain(session);
  }

  /** Handles the frames that arrived while a request was waiting, in order. */
  private drain(session: Session): void {
    const backlog = session.backlog;
    // A frame of the backlog whose request is refused at once drains again from
    // inside this loop: that inner call must not start the backlog over.
    if (backlog === null || session.draining) return;
    session.draining = true;
    // An index, not shift(): shifting a long backlog one frame at a time is quadratic.
    let next = 0;
    try {
      while (!session.released && session.role.kind !== 'waiting' && next < backlog.length) {
        this.dispatch(session, backlog[next++]!);
      }
    } finally {
      session.draining = false;
    }
    if (session.backlog !== backlog) return;
    if (next === backlog.length) session.backlog = null;
    else backlog.splice(0, next);
  }

  private roomDissolved(room: Room): void {
    const key = room.address.key;
    if (this.rooms.get(key) !== room) return;
    this.rooms.delete(key);
    this.deps.backplane.release(key);
    this.observer.keyReleased?.(key);
  }
}

function allows(grant: SessionGrant, key: string): boolean {
  return grant.allowedKey === null || grant.allowedKey === key;
}

/** Calls `ok` with the value now if it is ready, else when the promise settles. */
function settle<T>(value: MaybePromise<T>, ok: (value: T) => void, failed: (error: unknown) => void): void {
  if (value instanceof Promise) value.then(ok, failed);
  else ok(value);
}
