// Drives the pure signaling core without sockets: fake peers record what
// they are sent, and a manual clock fires timers when the test says so.

import { MemoryBackplane } from '../../src/cluster/memory-backplane.js';
import type { Clock, Timer } from '../../src/core/ports.js';
import type { Session } from '../../src/core/session.js';
import { Signaling, type SignalingLimits } from '../../src/core/signaling.js';
import type { Dialect } from '../../src/protocol/index.js';
import { withTimeout } from './waits.js';

/** A clock that only moves when told, with its pending timers in view. */
export class ManualClock implements Clock {
  private time = 0;
  private readonly timers = new Set<{ at: number; fn: () => void }>();
  private waiters: Array<() => void> = [];

  now(): number {
    return this.time;
  }

  setTimer(ms: number, fn: () => void): Timer {
    const timer = { at: this.time + ms, fn };
    this.timers.add(timer);
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
    return { cancel: () => this.timers.delete(timer) };
  }

  /**
   * Resolves once `count` timers are pending. A repeating task that sets its
   * next timer when a run is over (RedisBackplane's) has then finished the
   * run that {@link advance} started.
   */
  async untilPending(count: number): Promise<void> {
    while (this.timers.size < count) {
      await withTimeout(new Promise<void>((resolve) => this.waiters.push(resolve)), `${count} pending timers`);
    }
  }

  /** Moves time forward, firing due timers in order. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const due = [...this.timers].filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) break;
      this.timers.delete(due);
      this.time = Math.max(this.time, due.at);
      due.fn();
    }
    this.time = end;
  }

  get pendingTimers(): number {
    return this.timers.size;
  }
}

/** A connection as the core sees it, recording what it was sent. */
export class FakePeer {
  readonly received: string[] = [];
  closed: { code: number; reason: string } | undefined;
  session!: Session;
  constructor(readonly dialect: Dialect) {}

  /** Messages received, parsed. */
  get messages(): unknown[] {
    return this.received.map((text) => JSON.parse(text) as unknown);
  }
}

/** The default limits for core tests. */
export const TEST_LIMITS: SignalingLimits = {
  maxJoiners: 4,
  maxPendingOffers: 16,
  resumeGraceMs: 1_000,
  rateLimit: 1_000,
  rateBurst: 1_000,
};

/** A core with fake peers. */
export class CoreHarness {
  readonly clock = new ManualClock();
  readonly core: Signaling;
  private secrets = 0;

  constructor(limits: Partial<SignalingLimits> = {}) {
    this.core = new Signaling({
      limits: { ...TEST_LIMITS, ...limits },
      backplane: new MemoryBackplane(),
      clock: this.clock,
      secret: () => `secret-${(this.secrets += 1).toString().padStart(20, '0')}`,
    });
  }

  open(dialect: Dialect): FakePeer {
    const peer = new FakePeer(dialect);
    peer.session = this.core.open(
      {
        send: (text) => {
          if (peer.closed === undefined) peer.received.push(text);
        },
        close: (code, reason) => {
          peer.closed ??= { code, reason };
        },
      },
      dialect,
    );
    return peer;
  }

  send(peer: FakePeer, message: unknown): void {
    this.core.receive(peer.session, typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** The connection ends: with a close frame (clean) or dropped (abrupt). */
  end(peer: FakePeer, kind: 'clean' | 'abrupt'): void {
    this.core.ended(peer.session, kind, kind === 'clean' ? 1000 : 1006, '');
  }
}
