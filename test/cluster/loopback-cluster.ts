// An in-memory cluster for unit tests of the core: several Signaling
// instances whose backplanes answer asynchronously and deliver envelopes only
// when the test flushes them, so a test can kill a process between a request
// and its answer, or take a key away from its owner.

import type {
  Backplane,
  BackplaneHandler,
  Clock,
  DeliveryFailure,
  Envelope,
  PeerIdAddress,
  PeerSocket,
  RoomAddress,
  Timer,
} from '../../src/core/ports.js';
import { Signaling } from '../../src/core/signaling.js';
import type { Session } from '../../src/core/session.js';
import type { CloseSpec, Dialect } from '../../src/protocol/index.js';

/** A clock that moves only when the test says so. */
export class ManualClock implements Clock {
  private time = 0;
  private timers: Array<{ at: number; fn: () => void; live: boolean }> = [];

  now(): number {
    return this.time;
  }

  setTimer(ms: number, fn: () => void): Timer {
    const timer = { at: this.time + ms, fn, live: true };
    this.timers.push(timer);
    return { cancel: () => void (timer.live = false) };
  }

  /** Moves time forward, firing the timers that fall due, in order. */
  advance(ms: number): void {
    const until = this.time + ms;
    for (;;) {
      const due = this.timers.filter((t) => t.live && t.at <= until).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) break;
      due.live = false;
      this.time = due.at;
      due.fn();
    }
    this.time = until;
    this.timers = this.timers.filter((t) => t.live);
  }
}

/** A socket that records what the core sends and whether it closed it. */
export class FakeSocket implements PeerSocket {
  readonly sent: unknown[] = [];
  closed: CloseSpec | null = null;

  send(text: string): void {
    this.sent.push(JSON.parse(text));
  }

  close(code: number, reason: string): void {
    this.closed ??= { code, reason };
  }

  /** Returns and forgets what was sent so far. */
  take(): unknown[] {
    return this.sent.splice(0);
  }
}

/** One process of the loopback cluster. */
export interface LoopbackProcess {
  readonly id: string;
  readonly core: Signaling;
  /** Opens a connection and returns its session and socket. */
  open(dialect: Dialect): { session: Session; socket: FakeSocket };
}

/** Several Signaling instances joined by an in-memory bus. */
export class LoopbackCluster {
  readonly clock = new ManualClock();
  private readonly keys = new Map<string, { process: string; room: RoomAddress | null }>();
  private readonly peerIds = new Map<string, PeerIdAddress>();
  private readonly handlers = new Map<string, BackplaneHandler>();
  /** The processes that joined each topic. */
  private readonly topics = new Map<string, Set<string>>();
  private readonly dead = new Set<string>();
  /** Processes that envelopes cannot reach, and why their senders are told they could not. */
  private readonly unreachable = new Map<string, DeliveryFailure>();
  private readonly queue: Array<() => void> = [];
  private secrets = 0;
  /** While set, claims take effect in the store but their answers wait (a slow Redis reply). */
  private heldClaims: Array<() => void> | null = null;

  /** Starts a process with this id. */
  process(id: string, limits: { readonly resumeGraceMs?: number; readonly expireMs?: number } = {}): LoopbackProcess {
    const core = new Signaling({
      limits: {
        peerjs: limits.expireMs === undefined ? {} : { expireMs: limits.expireMs },
        maxJoiners: 256,
        maxPendingOffers: 1_024,
        resumeGraceMs: limits.resumeGraceMs ?? 10_000,
        rateLimit: 1_000,
        rateBurst: 1_000,
      },
      backplane: this.backplane(id),
      clock: this.clock,
      secret: () => `secret-${++this.secrets}`,
    });
    return {
      id,
      core,
      open(dialect) {
        const socket = new FakeSocket();
        const session = core.open(socket, dialect);
        return { session, socket };
      },
    };
  }

  /** Delivers every queued envelope and answer, including those they cause. */
  async flush(): Promise<void> {
    for (;;) {
      // Let promise callbacks (claims, locates) run before the next delivery.
      await new Promise<void>((resolve) => setImmediate(resolve));
      const next = this.queue.shift();
      if (next === undefined) return;
      next();
    }
  }

  /** From now on, the answers to claims wait for {@link answerClaims}; the claims themselves hold at once. */
  holdClaimAnswers(): void {
    this.heldClaims = [];
  }

  /** Lets the held claim answers arrive. */
  answerClaims(): void {
    const held = this.heldClaims ?? [];
    this.heldClaims = null;
    for (const answer of held) answer();
  }

  /** Lets pending answers (claims, locates) arrive without delivering any envelope. */
  async settle(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  /**
   * The process dies: what was sent to it is lost, its keys are freed, and
   * every other process is told.
   */
  kill(id: string): void {
    this.dead.add(id);
    for (const [key, entry] of this.keys) if (entry.process === id) this.keys.delete(key);
    for (const [name, entry] of this.peerIds) if (entry.process === id) this.peerIds.delete(name);
    for (const [other, handler] of this.handlers) if (other !== id && !this.dead.has(other)) handler.processLost(id);
  }

  /**
   * From now on, what is posted to `id` reaches nobody and goes back to its
   * sender's core with `why` (as RedisBackplane hands back what no process
   * received, or what it could not send). `id` itself carries on.
   */
  cutOff(id: string, why: DeliveryFailure): void {
    this.unreachable.set(id, why);
  }

  /** Another process takes `key` from its owner, which is told. */
  steal(key: string, by: string): void {
    const previous = this.keys.get(key);
    this.keys.set(key, { process: by, room: null });
    if (previous !== undefined) this.handlers.get(previous.process)?.keyLost(key);
  }

  /** Who holds `key` now, if anybody. */
  owner(key: string): string | undefined {
    return this.keys.get(key)?.process;
  }

  private backplane(processId: string): Backplane {
    return {
      processId,
      attach: (handler) => void this.handlers.set(processId, handler),
      claim: async (room) => {
        if (this.keys.has(room.key)) return false;
        this.keys.set(room.key, { process: processId, room });
        const held = this.heldClaims;
        if (held !== null) await new Promise<void>((resolve) => held.push(resolve));
        return true;
      },
      release: (key) => {
        if (this.keys.get(key)?.process === processId) this.keys.delete(key);
      },
      locate: async (key) => this.keys.get(key)?.room ?? undefined,
      post: (to: string, envelope: Envelope) => {
        const failure = this.unreachable.get(to);
        if (failure !== undefined) {
          this.queue.push(() => this.handlers.get(processId)?.undelivered(envelope, failure));
          return;
        }
        this.queue.push(() => {
          if (!this.dead.has(to)) this.handlers.get(to)?.deliver(envelope);
        });
      },
      joinTopic: (topic) => {
        let processes = this.topics.get(topic);
        if (processes === undefined) this.topics.set(topic, (processes = new Set()));
        processes.add(processId);
      },
      leaveTopic: (topic) => {
        const processes = this.topics.get(topic);
        processes?.delete(processId);
        if (processes?.size === 0) this.topics.delete(topic);
      },
      claimPeerId: async (peer) => {
        if (this.peerIds.has(peer.name)) return false;
        this.peerIds.set(peer.name, peer);
        const held = this.heldClaims;
        if (held !== null) await new Promise<void>((resolve) => held.push(resolve));
        return true;
      },
      releasePeerId: (name) => {
        if (this.peerIds.get(name)?.process === processId) this.peerIds.delete(name);
      },
      locatePeerId: async (name) => this.peerIds.get(name),
      peerIds: async (realm, limit) =>
        [...this.peerIds.keys()]
          .filter((name) => name.slice(0, name.lastIndexOf('/')) === realm)
          .map((name) => name.slice(name.lastIndexOf('/') + 1))
          .slice(0, limit),
      publish: (publication) => {
        for (const to of this.topics.get(publication.topic) ?? []) {
          if (to === processId) continue;
          this.queue.push(() => {
            if (!this.dead.has(to)) this.handlers.get(to)?.deliver(publication);
          });
        }
      },
    };
  }
}
