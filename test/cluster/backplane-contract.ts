// What every backplane promises the core, as one suite run against each
// implementation (in memory, Redis). Cross-process promises run only where
// one cluster can have several processes.

import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type {
  Backplane,
  BackplaneHandler,
  DeliveryFailure,
  Envelope,
  RoomAddress,
  TopicPublication,
} from '../../src/core/ports.js';
import { withTimeout } from '../support/waits.js';

/** Makes backplanes for one test. */
export interface BackplaneFixture {
  /** A backplane of a new process; every call within one test joins the same cluster. */
  newProcess(): Promise<Backplane>;
}

/** How to make a fixture, and whether it can have several processes. */
export interface BackplaneContract {
  readonly name: string;
  readonly manyProcesses: boolean;
  fixture(t: TestContext): Promise<BackplaneFixture>;
}

/** A handler that keeps what it is given, and lets a test await it. */
export class RecordingHandler implements BackplaneHandler {
  readonly delivered: Envelope[] = [];
  readonly undeliverable: Array<[Envelope, DeliveryFailure]> = [];
  readonly lostProcesses: string[] = [];
  readonly lostKeys: string[] = [];
  private waiters: Array<() => void> = [];

  deliver(envelope: Envelope): void {
    this.delivered.push(envelope);
    this.wake();
  }

  undelivered(envelope: Envelope, why: DeliveryFailure): void {
    this.undeliverable.push([envelope, why]);
    this.wake();
  }

  processLost(processId: string): void {
    this.lostProcesses.push(processId);
    this.wake();
  }

  keyLost(key: string): void {
    this.lostKeys.push(key);
    this.wake();
  }

  readonly lostPeerIds: string[] = [];

  peerIdLost(name: string): void {
    this.lostPeerIds.push(name);
    this.wake();
  }

  /** Resolves once `done()` is true, checking after each call to the handler. */
  async until(what: string, done: () => boolean, ms?: number): Promise<void> {
    while (!done()) {
      await withTimeout(new Promise<void>((resolve) => this.waiters.push(resolve)), what, ms);
    }
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

function room(key: string, processId: string, number = 1): RoomAddress {
  return { key, process: processId, room: number };
}

function relay(to: RoomAddress, n: number): Envelope {
  return {
    to: 'room',
    room: to,
    command: {
      type: 'from-joiner',
      from: { process: 'x', conn: n },
      id: 1,
      kind: 'candidate',
      data: JSON.stringify({ n }),
    },
  };
}

/** Registers the contract's tests for one implementation. */
export function backplaneContract(contract: BackplaneContract): void {
  const it = (name: string, body: (fixture: BackplaneFixture) => Promise<void>): void => {
    test(`${contract.name}: ${name}`, async (t) => body(await contract.fixture(t)));
  };

  it('claims a free key once; a second claim is refused', async ({ newProcess }) => {
    const a = await newProcess();
    assert.equal(await a.claim(room('k', a.processId)), true);
    assert.equal(await a.claim(room('k', a.processId)), false);
    assert.equal(await a.claim(room('other', a.processId)), true);
  });

  it('two claims of one key at the same time: exactly one wins', async ({ newProcess }) => {
    const a = await newProcess();
    const results = await Promise.all([
      a.claim(room('race', a.processId)),
      a.claim(room('race', a.processId)),
      a.claim(room('race', a.processId)),
    ]);
    assert.equal(results.filter(Boolean).length, 1);
  });

  it('a released key can be claimed again', async ({ newProcess }) => {
    const a = await newProcess();
    assert.equal(await a.claim(room('k', a.processId)), true);
    a.release('k');
    assert.equal(await a.claim(room('k', a.processId)), true);
  });

  it('locates nothing for a free key', async ({ newProcess }) => {
    const a = await newProcess();
    assert.equal(await a.locate('free'), undefined);
  });

  it("locates a claimed key's room from the moment the claim holds, until its key is released", async ({
    newProcess,
  }) => {
    const a = await newProcess();
    assert.equal(await a.claim(room('k', a.processId, 7)), true);
    assert.deepEqual(await a.locate('k'), room('k', a.processId, 7));
    a.release('k');
    assert.equal(await a.locate('k'), undefined);
  });

  it('keys are any valid key string, astral characters included', async ({ newProcess }) => {
    const a = await newProcess();
    const key = `😀 ${'k'.repeat(200)} "quoted" \\ 42`;
    assert.equal(await a.claim(room(key, a.processId)), true);
    assert.deepEqual(await a.locate(key), room(key, a.processId));
  });

  if (!contract.manyProcesses) return;

  it('a key claimed by one process is refused to another', async ({ newProcess }) => {
    const a = await newProcess();
    const b = await newProcess();
    assert.notEqual(a.processId, b.processId);
    assert.equal(await a.claim(room('k', a.processId)), true);
    assert.equal(await b.claim(room('k', b.processId)), false);
    a.release('k');
    assert.equal(await b.claim(room('k', b.processId)), true);
  });

  it('processes racing for one key: exactly one wins', async ({ newProcess }) => {
    const all = await Promise.all([newProcess(), newProcess(), newProcess()]);
    const results = await Promise.all(all.map(async (b) => b.claim(room('race', b.processId))));
    assert.equal(results.filter(Boolean).length, 1);
  });

  it("another process locates a claimed key's room", async ({ newProcess }) => {
    const a = await newProcess();
    const b = await newProcess();
    assert.equal(await a.claim(room('k', a.processId, 3)), true);
    assert.deepEqual(await b.locate('k'), room('k', a.processId, 3));
  });

  it('a process cannot release a key that another process holds', async ({ newProcess }) => {
    const a = await newProcess();
    const b = await newProcess();
    assert.equal(await a.claim(room('k', a.processId)), true);
    b.release('k');
    assert.equal(await b.claim(room('k', b.processId)), false);
    assert.deepEqual(await b.locate('k'), room('k', a.processId));
  });

  it('a topic publication reaches each other process that joined the topic, once, until it leaves', async ({
    newProcess,
  }) => {
    const [a, b, c] = await Promise.all([newProcess(), newProcess(), newProcess()]);
    const [atA, atB, atC] = [new RecordingHandler(), new RecordingHandler(), new RecordingHandler()];
    a.attach(atA);
    b.attach(atB);
    c.attach(atC);
    await Promise.all([a.joinTopic('doc'), b.joinTopic('doc'), c.joinTopic('other')]);
    const first: TopicPublication = { to: 'topic', topic: 'doc', process: a.processId, members: 2, data: '{"n":1}' };
    a.publish(first);
    await atB.until('the publication', () => atB.delivered.length >= 1);
    b.leaveTopic('doc');
    const second: TopicPublication = { to: 'topic', topic: 'doc', process: a.processId, members: 1 };
    a.publish(second);
    c.publish({ to: 'topic', topic: 'other', process: c.processId, members: 1 });
    // A marker after them, on the channel b still hears: whatever b was to get has come by then.
    await b.joinTopic('marker');
    const marker: TopicPublication = { to: 'topic', topic: 'marker', process: a.processId, members: 1 };
    a.publish(marker);
    await atB.until('the marker', () => atB.delivered.length >= 2);
    assert.deepEqual(atB.delivered, [first, marker]);
    assert.ok(
      atA.delivered.every((envelope) => envelope.to === 'topic' && envelope.process === a.processId),
      'a process may hear its own publications (the core drops them), never others of topics it did not join',
    );
  });

  it('delivers posted envelopes to the addressed process, in order', async ({ newProcess }) => {
    const a = await newProcess();
    const b = await newProcess();
    const handler = new RecordingHandler();
    b.attach(handler);
    const target = room('k', b.processId);
    const sent = Array.from({ length: 50 }, (_, n) => relay(target, n));
    for (const envelope of sent) a.post(b.processId, envelope);
    await handler.until('50 envelopes', () => handler.delivered.length >= 50);
    assert.deepEqual(handler.delivered, sent);
  });
}
