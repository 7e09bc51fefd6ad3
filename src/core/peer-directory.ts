// Peers addressed by an id (PeerJS): each connection registers one id in a
// realm, and any peer can message any other of its realm by id. An id is
// claimed through the backplane, so it is unique across processes, and a
// message reaches its id in this process directly or in another one through
// the backplane. A message for an id that is not connected waits in that
// id's mailbox, bounded, and expires: its sender then gets EXPIRE, as from
// PeerJS's own server. Pure logic: sockets, time and other processes are
// reached through ports.

import {
  CLOSES,
  PEERJS_OPEN_FRAME,
  parsePeerJsFrame,
  peerJsRelayFrame,
  utf8Length,
  type CloseSpec,
  type ErrorCode,
  type PeerJsRelayType,
  type RelayKind,
} from '../protocol/index.js';
import type {
  Backplane,
  Clock,
  MaybePromise,
  PeerIdAddress,
  PeerIdMessage,
  SignalingObserver,
  Timer,
} from './ports.js';
import type { Session } from './session.js';

/** The bounds of the mailboxes and their expiry. */
export interface PeerDirectoryLimits {
  /** Messages waiting for one id. */
  readonly mailboxMessages: number;
  /** Bytes waiting for one id (frames as sent, UTF-8). */
  readonly mailboxBytes: number;
  /** Messages waiting in this process, all ids together. */
  readonly queuedMessages: number;
  /** Bytes waiting in this process, all ids together. */
  readonly queuedBytes: number;
  /** How long a mailbox waits for its id, ms: then its messages expire. */
  readonly expireMs: number;
}

/** The defaults of {@link PeerDirectoryLimits} (docs/SECURITY.md, PeerJS mailboxes). */
export const DEFAULT_PEER_DIRECTORY_LIMITS: PeerDirectoryLimits = Object.freeze({
  mailboxMessages: 64,
  mailboxBytes: 128 * 1024,
  queuedMessages: 20_000,
  queuedBytes: 32 * 1024 * 1024,
  expireMs: 5_000,
});

/** How long where another process holds an id is remembered, ms: a burst of candidates costs one lookup. */
const LOCATION_TTL_MS = 1_000;

/** Remembered locations at most; past it the memory starts again. */
const MAX_LOCATIONS = 10_000;

/** What the directory needs from the process that keeps it. */
export interface PeerDirectoryContext {
  readonly limits: PeerDirectoryLimits;
  readonly backplane: Backplane;
  readonly clock: Clock;
  readonly observer: SignalingObserver;
  /** Refuses a request of `session`: counted, logged, answered as PeerJS expects, and the connection closed. */
  refuse(session: Session, code: ErrorCode): void;
  /** Closes `session` (it left, or was replaced). */
  close(session: Session, spec: CloseSpec): void;
}

/** Counts of the directory, for health and metrics. */
export interface PeerDirectoryStats {
  /** Ids registered by connections of this process. */
  readonly peers: number;
  /** Messages waiting in mailboxes of this process. */
  readonly queuedMessages: number;
  readonly queuedBytes: number;
}

/** One id held (or being claimed) by a connection of this process. */
interface Registration {
  session: Session;
  readonly realm: string;
  readonly id: string;
  readonly name: string;
  /** The client's own session secret: a new connection with the same one takes the id over. */
  readonly token: string;
  /** The claim holds and OPEN was sent. */
  open: boolean;
  /** Frames that arrived while the claim was on its way. */
  backlog: string[] | null;
}

interface Mailbox {
  readonly messages: PeerIdMessage[];
  bytes: number;
  readonly timer: Timer;
}

/** The name of id `id` of `realm`, under which it is claimed. Ids hold no `/`, so the last one splits it. */
export function peerName(realm: string, id: string): string {
  // Joined, not concatenated: V8 keeps a long concatenation as a pair of
  // parts until it is hashed (as a map key), and then as a copy besides.
  return [realm, id].join('/');
}

/** The peer ids of one process and the mailboxes of ids not connected. */
export class PeerDirectory {
  private readonly registrations = new Map<string, Registration>();
  private readonly bySession = new Map<Session, Registration>();
  private readonly mailboxes = new Map<string, Mailbox>();
  /** Messages waiting for a lookup of their id, in order, by name. */
  private readonly lookups = new Map<string, PeerIdMessage[]>();
  private readonly locations = new Map<string, { readonly process: string; readonly until: number }>();
  private queuedMessages = 0;
  private queuedBytes = 0;
  private readonly processId: string;

  constructor(private readonly ctx: PeerDirectoryContext) {
    this.processId = ctx.backplane.processId;
  }

  stats(): PeerDirectoryStats {
    return { peers: this.registrations.size, queuedMessages: this.queuedMessages, queuedBytes: this.queuedBytes };
  }

  /**
   * Registers `id` in `realm` for `session`. Taken by another connection:
   * ID-TAKEN, unless that connection presented the same session token (the
   * same client reconnecting before its old socket was seen to drop): the
   * new connection then takes the id over and the old one is closed.
   */
  register(session: Session, realm: string, id: string, token: string): void {
    const name = peerName(realm, id);
    const held = this.registrations.get(name);
    if (held !== undefined) {
      if (!held.open || held.token !== token) return this.ctx.refuse(session, 'ID_TAKEN');
      const old = held.session;
      this.bySession.delete(old);
      held.session = session;
      this.bySession.set(session, held);
      this.ctx.close(old, CLOSES.REPLACED);
      session.socket.send(PEERJS_OPEN_FRAME);
      return;
    }
    const registration: Registration = { session, realm, id, name, token, open: false, backlog: null };
    this.registrations.set(name, registration);
    this.bySession.set(session, registration);
    const address: PeerIdAddress = { name, process: this.processId, conn: session.address.conn };
    settle(
      this.ctx.backplane.claimPeerId(address),
      (claimed) => this.claimed(registration, claimed),
      () => this.claimFailed(registration),
    );
  }

  /** A frame from a registered connection. */
  receive(session: Session, text: string): void {
    const registration = this.bySession.get(session);
    if (registration === undefined) return;
    if (!registration.open) {
      // Its id is not its own yet: nothing leaves in its name before the claim holds.
      (registration.backlog ??= []).push(text);
      return;
    }
    this.handle(registration, text);
  }

  /** The connection is gone: its id is free again. Peers that had it are not told, as with `peer`. */
  leave(session: Session): void {
    const registration = this.bySession.get(session);
    if (registration === undefined) return;
    this.bySession.delete(session);
    registration.backlog = null;
    if (this.registrations.get(registration.name) !== registration) return;
    this.registrations.delete(registration.name);
    // A claim on its way is released when it lands (see `claimed`).
    if (registration.open) this.ctx.backplane.releasePeerId(registration.name);
  }

  /** A message from another process for an id it located here. */
  delivered(message: PeerIdMessage): void {
    const name = peerName(message.realm, message.dst);
    if (this.registrations.has(name) || message.hops > 0) return this.deliverHere(message);
    // The id moved on since the sender looked it up: look again, once.
    this.route({ ...message, hops: message.hops + 1 });
  }

  /** Another process took an id that this one held (its claim had lapsed). */
  peerIdLost(name: string): void {
    const registration = this.registrations.get(name);
    if (registration === undefined) return;
    this.registrations.delete(name);
    this.bySession.delete(registration.session);
    this.ctx.refuse(registration.session, 'ID_TAKEN');
  }

  /** Another process died: where it held ids is forgotten. */
  processLost(processId: string): void {
    for (const [name, location] of this.locations) if (location.process === processId) this.locations.delete(name);
  }

  /** Up to `limit` ids of `realm` (PeerJS discovery). */
  peerIds(realm: string, limit: number): MaybePromise<string[]> {
    return this.ctx.backplane.peerIds(realm, limit);
  }

  /** Shutdown: every mailbox is dropped, with no EXPIRE (every connection is closing). */
  clear(): void {
    for (const mailbox of this.mailboxes.values()) mailbox.timer.cancel();
    this.mailboxes.clear();
    this.lookups.clear();
    this.queuedMessages = 0;
    this.queuedBytes = 0;
  }

  private claimed(registration: Registration, claimed: boolean): void {
    const { session, name } = registration;
    if (this.bySession.get(session) !== registration) {
      // The connection left while its claim was on its way.
      if (claimed) this.ctx.backplane.releasePeerId(name);
      return;
    }
    if (!claimed) {
      this.forget(registration);
      return this.ctx.refuse(session, 'ID_TAKEN');
    }
    registration.open = true;
    session.socket.send(PEERJS_OPEN_FRAME);
    const mailbox = this.mailboxes.get(name);
    if (mailbox !== undefined) {
      this.dropMailbox(name, mailbox);
      for (const message of mailbox.messages) this.send(registration, message);
    }
    const backlog = registration.backlog;
    registration.backlog = null;
    if (backlog === null) return;
    for (const text of backlog) {
      if (this.bySession.get(session) !== registration) return;
      this.handle(registration, text);
    }
  }

  private claimFailed(registration: Registration): void {
    if (this.bySession.get(registration.session) !== registration) return;
    this.forget(registration);
    this.ctx.refuse(registration.session, 'UNAVAILABLE');
  }

  private forget(registration: Registration): void {
    this.bySession.delete(registration.session);
    if (this.registrations.get(registration.name) === registration) this.registrations.delete(registration.name);
  }

  private handle(registration: Registration, text: string): void {
    const message = parsePeerJsFrame(text);
    if (message === 'invalid') return this.ctx.refuse(registration.session, 'INVALID_MESSAGE');
    switch (message.type) {
      case 'heartbeat':
      case 'ignored':
        return;
      case 'leave-server':
        return this.ctx.close(registration.session, LEFT);
      case 'relay': {
        const { kind, dst, payload } = message;
        const frame = peerJsRelayFrame(kind, registration.id, dst, payload);
        return this.route({
          to: 'peer-id',
          realm: registration.realm,
          src: registration.id,
          dst,
          kind,
          text: frame,
          hops: 0,
        });
      }
    }
  }

  /** Sends a message towards its id: here, to the process that holds it, or into its mailbox. */
  private route(message: PeerIdMessage): void {
    const name = peerName(message.realm, message.dst);
    if (this.registrations.has(name)) return this.deliverHere(message);
    const waiting = this.lookups.get(name);
    if (waiting !== undefined) {
      // Behind the lookup under way, so that messages keep their order.
      if (waiting.length >= this.ctx.limits.mailboxMessages) return this.bounce(message, false);
      waiting.push(message);
      return;
    }
    const location = this.locations.get(name);
    if (location !== undefined && location.until > this.ctx.clock.now()) {
      return this.ctx.backplane.post(location.process, message);
    }
    this.lookups.set(name, [message]);
    settle(
      this.ctx.backplane.locatePeerId(name),
      (found) => this.located(name, found),
      () => this.located(name, undefined),
    );
  }

  private located(name: string, found: PeerIdAddress | undefined): void {
    const waiting = this.lookups.get(name);
    this.lookups.delete(name);
    if (waiting === undefined) return;
    if (found === undefined || found.process === this.processId) {
      for (const message of waiting) this.deliverHere(message);
      return;
    }
    if (this.locations.size >= MAX_LOCATIONS) this.locations.clear();
    this.locations.set(name, { process: found.process, until: this.ctx.clock.now() + LOCATION_TTL_MS });
    for (const message of waiting) this.ctx.backplane.post(found.process, message);
  }

  /** Delivers to the id's connection here if it is open, else queues the message in the id's mailbox. */
  private deliverHere(message: PeerIdMessage): void {
    const registration = this.registrations.get(peerName(message.realm, message.dst));
    if (registration?.open === true) return this.send(registration, message);
    this.enqueue(message);
  }

  private send(registration: Registration, message: PeerIdMessage): void {
    registration.session.socket.send(message.text);
    const kind = RELAY_KINDS[message.kind];
    if (kind !== undefined) this.ctx.observer.relayed?.(kind);
  }

  /** Queues a message for an id not connected (`peer` drops LEAVE and EXPIRE for one instead). */
  private enqueue(message: PeerIdMessage): void {
    if (message.kind === 'LEAVE' || message.kind === 'EXPIRE') return;
    const { limits } = this.ctx;
    const name = peerName(message.realm, message.dst);
    const bytes = utf8Length(message.text);
    let mailbox = this.mailboxes.get(name);
    if (
      (mailbox?.messages.length ?? 0) >= limits.mailboxMessages ||
      (mailbox?.bytes ?? 0) + bytes > limits.mailboxBytes ||
      this.queuedMessages >= limits.queuedMessages ||
      this.queuedBytes + bytes > limits.queuedBytes
    ) {
      return this.bounce(message, true);
    }
    if (mailbox === undefined) {
      mailbox = { messages: [], bytes: 0, timer: this.ctx.clock.setTimer(limits.expireMs, () => this.expire(name)) };
      this.mailboxes.set(name, mailbox);
    }
    mailbox.messages.push(message);
    mailbox.bytes += bytes;
    this.queuedMessages += 1;
    this.queuedBytes += bytes;
  }

  private dropMailbox(name: string, mailbox: Mailbox): void {
    mailbox.timer.cancel();
    this.mailboxes.delete(name);
    this.queuedMessages -= mailbox.messages.length;
    this.queuedBytes -= mailbox.bytes;
  }

  /**
   * A mailbox waited `expireMs` for its id. The id may have connected to
   * another process meanwhile: its messages go there. Otherwise each sender
   * gets one EXPIRE, as from `peer`.
   */
  private expire(name: string): void {
    const mailbox = this.mailboxes.get(name);
    if (mailbox === undefined) return;
    this.dropMailbox(name, mailbox);
    const expireAll = (): void => {
      const told = new Set<string>();
      for (const message of mailbox.messages) {
        if (told.has(message.src)) continue;
        told.add(message.src);
        this.bounce(message, false);
      }
    };
    settle(
      this.ctx.backplane.locatePeerId(name),
      (found) => {
        if (found === undefined || found.process === this.processId) return expireAll();
        for (const message of mailbox.messages) this.ctx.backplane.post(found.process, message);
      },
      expireAll,
    );
  }

  /** Tells the sender of `message` that it will not be delivered: EXPIRE, from its destination. */
  private bounce(message: PeerIdMessage, full: boolean): void {
    if (full) this.ctx.observer.mailboxFull?.();
    const { realm, src, dst } = message;
    this.route({
      to: 'peer-id',
      realm,
      src: dst,
      dst: src,
      kind: 'EXPIRE',
      text: peerJsRelayFrame('EXPIRE', dst, src, undefined),
      hops: 0,
    });
  }
}

/** A client's LEAVE without a destination: it gives its id up, and the server closes its socket. */
const LEFT: CloseSpec = { code: 1000, reason: 'Left' };

/** The relay kinds counted in metrics, by PeerJS type. */
const RELAY_KINDS: Readonly<Record<PeerJsRelayType, RelayKind | undefined>> = {
  OFFER: 'offer',
  ANSWER: 'answer',
  CANDIDATE: 'candidate',
  LEAVE: undefined,
  EXPIRE: undefined,
};

/** Calls `ok` with the value now if it is ready, else when the promise settles. */
function settle<T>(value: MaybePromise<T>, ok: (value: T) => void, failed: (error: unknown) => void): void {
  if (value instanceof Promise) value.then(ok, failed);
  else ok(value);
}
