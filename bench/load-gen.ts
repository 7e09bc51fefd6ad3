// Load generator: a process of its own that drives handshake, fan-in and idle
// workloads over plain WebSocket connections, on commands from the driver
// over IPC.
//
// Lean on purpose: on 2 cores the client competes with the server for CPU.
// Frames are built and masked once, a side's offer or answer and its
// candidates leave in one write, incoming frames are classified by their
// first field name without parsing, and only `verify` parses them in full.
import { performance } from 'node:perf_hooks';
import { endpoint, LeanWebSocket, textFrame, type Endpoint, type LeanHandler } from './lean-web-socket.js';
import type {
  Dialect,
  FailureCounts,
  FanInCommand,
  HandshakeCommand,
  HandshakeResult,
  IdleCloseCommand,
  IdleOpenCommand,
  IdleResult,
  LoadGenCommand,
  LoadGenReply,
  LoadGenRequest,
  Verify,
} from './load-gen-messages.js';
import { CANDIDATES_PER_SIDE, makePayloads } from './payloads.js';

const V1 = 'sigver.v1';
const NORMAL_CLOSE = 1000;
const NO_STATUS = 1005;

const PAYLOADS = makePayloads();
const JOINER_CANDIDATE_SET = new Set(PAYLOADS.joinerCandidateJson);
/** v1 joiner: the offer, then its candidates (trickle ICE), in one write. */
const JOINER_BURST_V1 = Buffer.concat([
  textFrame(`{"offer":${PAYLOADS.offerJson}}`),
  ...PAYLOADS.joinerCandidateJson.map((c) => textFrame(`{"candidate":${c}}`)),
]);
const JOINER_BURST_V0 = textFrame(`{"offer":${PAYLOADS.offerJson}}`);
const HOST_BURST_V0 = textFrame(`{"answer":${PAYLOADS.answerJson}}`);

const hostBursts = new Map<number, Buffer>();

/** v1 host: the answer to joiner `id` and the host's candidates for it, in one write. */
function hostBurstV1(id: number): Buffer {
  let burst = hostBursts.get(id);
  if (burst === undefined) {
    burst = Buffer.concat([
      textFrame(`{"answer":${PAYLOADS.answerJson},"id":${id}}`),
      ...PAYLOADS.hostCandidateJson.map((c) => textFrame(`{"candidate":${c},"id":${id}}`)),
    ]);
    hostBursts.set(id, burst);
  }
  return burst;
}

const QUOTE = 0x22;

/**
 * The name of a frame's message: its first field, or the second when the
 * first is `id` (a server may put the id first). No JSON parsing.
 */
function messageName(frame: Buffer): string {
  if (frame[0] !== 0x7b || frame[1] !== QUOTE) return '?';
  const end = frame.indexOf(QUOTE, 2);
  if (end < 0) return '?';
  const name = frame.toString('latin1', 2, end);
  if (name !== 'id') return name;
  const next = frame.indexOf(',"', end);
  return next < 0 ? '?' : frame.toString('latin1', next + 2, frame.indexOf(QUOTE, next + 2));
}

/** The joiner id a frame carries (`"id":n`), or null. Payloads never contain `"id":`. */
function idOf(frame: Buffer): number | null {
  const at = frame.lastIndexOf('"id":');
  if (at < 0) return null;
  let id = 0;
  let digits = 0;
  for (let i = at + 5; i < frame.length; i++) {
    const digit = (frame[i] ?? 0) - 0x30;
    if (digit < 0 || digit > 9) break;
    id = id * 10 + digit;
    digits++;
  }
  return digits > 0 ? id : null;
}

function closeText(code: number, reason: string): string {
  return reason.length > 0 ? `${code} ${reason}` : String(code);
}

function preview(frame: Buffer): string {
  const text = frame.toString('utf8', 0, Math.min(frame.length, 120));
  return frame.length > 120 ? `${text}...` : text;
}

/** Parses a frame in full and checks one field against the JSON text expected. */
function verifyFrame(frame: Buffer, field: string, check: (valueJson: string) => boolean): string | null {
  let message: unknown;
  try {
    message = JSON.parse(frame.toString('utf8'));
  } catch {
    return `invalid JSON: ${preview(frame)}`;
  }
  if (typeof message !== 'object' || message === null || Array.isArray(message))
    return `not an object: ${preview(frame)}`;
  const value: unknown = (message as Record<string, unknown>)[field];
  const valueJson = JSON.stringify(value) ?? 'undefined';
  return check(valueJson) ? null : `unexpected ${field}: ${valueJson.slice(0, 120)}`;
}

let keySeq = 0;
const KEY_PREFIX = `bench-${process.pid.toString(36)}-${Date.now().toString(36)}`;

function nextKey(): string {
  return `${KEY_PREFIX}-${(keySeq++).toString(36)}`;
}

function countFailure(failures: Map<string, number>, reason: string): void {
  failures.set(reason, (failures.get(reason) ?? 0) + 1);
}

function failureRecord(failures: Map<string, number>): FailureCounts {
  return Object.fromEntries(failures);
}

/** What a session reports back when both sides have closed. */
interface SessionOwner {
  relayed: number;
  readonly latenciesMs: number[];
  readonly offerToHostMs: number[];
  readonly answerToJoinerMs: number[];
  sessionFinished(session: Session): void;
}

/** One joiner connection of a session and its progress. */
interface JoinerState {
  readonly ws: LeanWebSocket;
  received: number;
  offerSentAt: number;
  /** When the host sent its answer to this joiner, ms. */
  answerSentAt: number;
  done: boolean;
}

/**
 * One host and its joiners performing the handshake: the host registers,
 * then every joiner joins, offers (v1: and trickles candidates), the host
 * answers each offer (v1: and trickles candidates back), and each side
 * closes once it has everything it expects. A pair is a session of one.
 */
class Session {
  readonly key = nextKey();
  failure: string | null = null;
  private readonly host: LeanWebSocket;
  private readonly joiners: JoinerState[] = [];
  private readonly v1: boolean;
  private readonly hostExpects: number;
  private readonly joinerExpects: number;
  private hostReceived = 0;
  private hostDone = false;
  private sockets = 1;
  private closed = 0;

  constructor(
    private readonly owner: SessionOwner,
    hostAt: Endpoint,
    private readonly joinAt: Endpoint,
    private readonly joinerCount: number,
    private readonly verify: boolean,
  ) {
    this.v1 = hostAt.protocol === V1;
    const perJoiner = this.v1 ? 1 + CANDIDATES_PER_SIDE : 1;
    this.hostExpects = joinerCount * perJoiner;
    this.joinerExpects = perJoiner;
    const handler: LeanHandler = {
      onOpen: () => {
        const frame = textFrame(`{"key":${JSON.stringify(this.key)}}`);
        // v0 sends no acknowledgement: start the joiners once the key frame
        // is with the kernel, so that it reaches the server first.
        if (this.v1) this.host.sendFrames(frame);
        else this.host.sendFrames(frame, () => this.startJoiners());
      },
      onMessage: (frame) => this.onHostMessage(frame),
      onError: (message) => this.fail(`host error: ${message}`),
      onClose: (code, reason) => this.onClose('host', this.hostDone, code, reason),
    };
    this.host = new LeanWebSocket(hostAt, handler);
  }

  /** Ends the session as failed (first reason wins) and drops its connections. */
  fail(reason: string): void {
    if (this.failure === null) this.failure = reason;
    this.host.terminate();
    for (const joiner of this.joiners) joiner.ws.terminate();
  }

  private startJoiners(): void {
    if (this.failure !== null || this.joiners.length > 0) return;
    for (let i = 0; i < this.joinerCount; i++) this.startJoiner();
  }

  private startJoiner(): void {
    const joinkey = textFrame(`{"joinkey":${JSON.stringify(this.key)}}`);
    let joiner: JoinerState | null = null;
    const handler: LeanHandler = {
      onOpen: () => joiner?.ws.sendFrames(joinkey),
      onMessage: (frame) => {
        if (joiner !== null) this.onJoinerMessage(joiner, frame);
      },
      onError: (message) => this.fail(`joiner error: ${message}`),
      onClose: (code, reason) => this.onClose('joiner', joiner?.done ?? false, code, reason),
    };
    joiner = { ws: new LeanWebSocket(this.joinAt, handler), received: 0, offerSentAt: 0, answerSentAt: 0, done: false };
    this.joiners.push(joiner);
    this.sockets++;
  }

  private onHostMessage(frame: Buffer): void {
    const name = messageName(frame);
    switch (name) {
      case 'registered':
        if (this.verify) this.check(frame, name, (v) => v === JSON.stringify(this.key));
        this.startJoiners();
        return;
      case 'join':
        if (this.verify) this.check(frame, name, (v) => /^[1-9][0-9]*$/.test(v));
        return;
      case 'offer':
        this.owner.relayed++;
        this.hostReceived++;
        if (this.verify) this.check(frame, name, (v) => v === PAYLOADS.offerJson);
        this.timeOffer();
        // Untagged means joiner 1: the raw forwarder tags only joiners 2 and up.
        this.host.sendFrames(this.v1 ? hostBurstV1(idOf(frame) ?? 1) : HOST_BURST_V0);
        break;
      case 'candidate':
        this.owner.relayed++;
        this.hostReceived++;
        if (this.verify) this.check(frame, name, (v) => JOINER_CANDIDATE_SET.has(v));
        break;
      case 'leave':
        // A joiner that has all it needs closes, possibly before the host
        // has everything; its own messages were relayed before its leave.
        return;
      default:
        this.fail(`host got ${preview(frame)}`);
        return;
    }
    if (this.hostReceived === this.hostExpects) {
      this.hostDone = true;
      this.host.close();
    }
  }

  private onJoinerMessage(joiner: JoinerState, frame: Buffer): void {
    const name = messageName(frame);
    switch (name) {
      case 'reachable':
        if (this.verify) this.check(frame, name, (v) => v === '"true"');
        joiner.offerSentAt = performance.now();
        joiner.ws.sendFrames(this.v1 ? JOINER_BURST_V1 : JOINER_BURST_V0);
        return;
      case 'answer':
        this.owner.relayed++;
        this.timeAnswer(joiner);
        if (this.verify) this.check(frame, name, (v) => v === PAYLOADS.answerJson);
        if (joiner.received !== 0) this.fail('joiner got an answer after candidates');
        break;
      case 'candidate': {
        this.owner.relayed++;
        const index = joiner.received - 1;
        if (index < 0) this.fail('joiner got a candidate before the answer');
        else if (this.verify) this.check(frame, name, (v) => v === PAYLOADS.hostCandidateJson[index]);
        break;
      }
      case 'leave':
        // The host closes once it has everything; what it sent came first.
        if (!joiner.done) this.fail('joiner got leave before its answer and candidates');
        return;
      default:
        this.fail(`joiner got ${preview(frame)}`);
        return;
    }
    joiner.received++;
    if (joiner.received === this.joinerExpects) {
      joiner.done = true;
      joiner.ws.close();
    }
  }

  /**
   * The one-way times, with one joiner per session only: with several, the
   * joiner an offer came from would have to be told by its id, whose order
   * the servers set.
   */
  private timeOffer(): void {
    const joiner = this.joiners.length === 1 ? this.joiners[0]! : null;
    if (joiner === null) return;
    const now = performance.now();
    this.owner.offerToHostMs.push(now - joiner.offerSentAt);
    joiner.answerSentAt = now;
  }

  private timeAnswer(joiner: JoinerState): void {
    const now = performance.now();
    this.owner.latenciesMs.push(now - joiner.offerSentAt);
    if (joiner.answerSentAt !== 0) this.owner.answerToJoinerMs.push(now - joiner.answerSentAt);
  }

  private check(frame: Buffer, field: string, accept: (valueJson: string) => boolean): void {
    const problem = verifyFrame(frame, field, accept);
    if (problem !== null) this.fail(problem);
  }

  private onClose(role: 'host' | 'joiner', done: boolean, code: number, reason: string): void {
    if (!done) this.fail(`${role} closed ${closeText(code, reason)} before the handshake ended`);
    else if (code !== NORMAL_CLOSE && code !== NO_STATUS) this.fail(`${role} closed ${closeText(code, reason)}`);
    this.closed++;
    if (this.closed === this.sockets) this.owner.sessionFinished(this);
  }
}

/** What a {@link HandshakeRun} does. */
interface RunSpec {
  readonly hostAt: Endpoint;
  readonly joinAt: Endpoint;
  readonly joinersPerSession: number;
  /** Sessions in flight at saturation; the in-flight cap at a fixed rate. */
  readonly concurrency: number;
  /** Sessions started per second; null runs at saturation. */
  readonly ratePerSec: number | null;
  readonly durationMs: number;
  readonly maxSessions: number | null;
  readonly drainTimeoutMs: number;
  readonly verify: Verify;
}

/** Starts sessions at saturation or at a fixed rate and collects their outcome. */
class HandshakeRun implements SessionOwner {
  relayed = 0;
  readonly latenciesMs: number[] = [];
  readonly offerToHostMs: number[] = [];
  readonly answerToJoinerMs: number[] = [];
  private started = 0;
  private completed = 0;
  private failed = 0;
  private readonly failures = new Map<string, number>();
  private readonly inFlight = new Set<Session>();
  private stopped = false;
  private startAt = 0;
  private lastEnd = 0;
  private readonly cpuAtStart = process.cpuUsage();
  private resolve: (result: HandshakeResult) => void = () => undefined;
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(private readonly spec: RunSpec) {}

  execute(): Promise<HandshakeResult> {
    return new Promise((resolve) => {
      this.resolve = resolve;
      this.startAt = performance.now();
      this.lastEnd = this.startAt;
      this.timers.push(setTimeout(() => this.stop(), this.spec.durationMs));
      const rate = this.spec.ratePerSec;
      if (rate === null) {
        for (let i = 0; i < this.spec.concurrency && this.mayStart(); i++) this.startSession();
      } else {
        const tick = (): void => {
          const due = Math.floor(((performance.now() - this.startAt) * rate) / 1000) + 1;
          while (this.started < due && this.inFlight.size < this.spec.concurrency && this.mayStart())
            this.startSession();
        };
        tick();
        this.timers.push(setInterval(tick, Math.max(1, Math.floor(1000 / rate))));
      }
      this.settleIfIdle();
    });
  }

  sessionFinished(session: Session): void {
    if (!this.inFlight.delete(session)) return;
    this.lastEnd = performance.now();
    if (session.failure === null) this.completed += this.spec.joinersPerSession;
    else {
      this.failed += this.spec.joinersPerSession;
      countFailure(this.failures, session.failure);
    }
    if (this.spec.ratePerSec === null && this.mayStart()) this.startSession();
    this.settleIfIdle();
  }

  private mayStart(): boolean {
    return !this.stopped && (this.spec.maxSessions === null || this.started < this.spec.maxSessions);
  }

  private startSession(): void {
    const verify = this.spec.verify === 'all' || (this.spec.verify === 'first' && this.started === 0);
    this.started++;
    this.inFlight.add(new Session(this, this.spec.hostAt, this.spec.joinAt, this.spec.joinersPerSession, verify));
  }

  private stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.push(setTimeout(() => this.timeOut(), this.spec.drainTimeoutMs));
    this.settleIfIdle();
  }

  private timeOut(): void {
    for (const session of this.inFlight) session.fail('timed out');
    // Terminated sockets report their close on a later turn; a session whose
    // sockets never report is counted as failed here so the run still ends.
    this.timers.push(
      setTimeout(() => {
        for (const session of [...this.inFlight]) {
          this.inFlight.delete(session);
          this.failed += this.spec.joinersPerSession;
          countFailure(this.failures, 'timed out, sockets never closed');
        }
        this.settleIfIdle();
      }, 2_000),
    );
  }

  /** Resolves once nothing is in flight and nothing more may start. */
  private settleIfIdle(): void {
    if (this.inFlight.size > 0 || this.mayStart()) return;
    for (const timer of this.timers) clearTimeout(timer);
    const cpu = process.cpuUsage(this.cpuAtStart);
    this.resolve({
      started: this.started * this.spec.joinersPerSession,
      completed: this.completed,
      failed: this.failed,
      failures: failureRecord(this.failures),
      relayed: this.relayed,
      elapsedMs: this.lastEnd - this.startAt,
      latenciesMs: this.latenciesMs,
      offerToHostMs: this.offerToHostMs,
      answerToJoinerMs: this.answerToJoinerMs,
      clientCpuMs: (cpu.user + cpu.system) / 1000,
    });
    this.resolve = () => undefined;
  }
}

function protocolOf(dialect: Dialect): string | null {
  return dialect === 'v1' ? V1 : null;
}

function runHandshakes(command: HandshakeCommand): Promise<HandshakeResult> {
  const protocol = protocolOf(command.dialect);
  return new HandshakeRun({
    hostAt: endpoint(command.hostUrl, protocol),
    joinAt: endpoint(command.joinUrl, protocol),
    joinersPerSession: 1,
    concurrency: command.concurrency,
    ratePerSec: command.ratePerSec,
    durationMs: command.durationMs,
    maxSessions: command.maxHandshakes,
    drainTimeoutMs: command.drainTimeoutMs,
    verify: command.verify,
  }).execute();
}

function runFanIn(command: FanInCommand): Promise<HandshakeResult> {
  return new HandshakeRun({
    hostAt: endpoint(command.hostUrl, V1),
    joinAt: endpoint(command.joinUrl, V1),
    joinersPerSession: command.joiners,
    concurrency: 1,
    ratePerSec: null,
    durationMs: command.timeoutMs,
    maxSessions: 1,
    drainTimeoutMs: 2_000,
    verify: command.verify,
  }).execute();
}

/** Idle connections, each hosting a key, held until told to close. */
class IdlePool {
  private readonly sockets: LeanWebSocket[] = [];
  private open = 0;
  private failed = 0;
  private readonly failures = new Map<string, number>();
  private closing = false;
  private onClosedWhileClosing: () => void = () => undefined;

  openMany(command: IdleOpenCommand): Promise<IdleResult> {
    const startAt = performance.now();
    const at = endpoint(command.url, V1);
    return new Promise((resolve) => {
      let started = 0;
      let settled = 0;
      let finished = false;
      const finish = (): void => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        resolve(this.report(performance.now() - startAt));
      };
      const timer = setTimeout(() => {
        this.fail(`open timed out after ${command.timeoutMs} ms with ${command.count - settled} pending`);
        finish();
      }, command.timeoutMs);
      const settle = (): void => {
        settled++;
        if (started < command.count) openOne();
        else if (settled === command.count) finish();
      };
      const openOne = (): void => {
        started++;
        const keyFrame = textFrame(`{"key":${JSON.stringify(nextKey())}}`);
        let ws: LeanWebSocket | null = null;
        let registered = false;
        let counted = false;
        const countOnce = (): void => {
          if (counted) return;
          counted = true;
          settle();
        };
        ws = new LeanWebSocket(at, {
          onOpen: () => ws?.sendFrames(keyFrame),
          onMessage: (frame) => {
            if (registered) return;
            if (messageName(frame) === 'registered') {
              registered = true;
              this.open++;
            } else this.fail(`idle host got ${preview(frame)}`);
            countOnce();
          },
          onError: (message) => this.fail(`idle connection error: ${message}`),
          onClose: (code, reason) => {
            if (registered) this.open--;
            if (this.closing) {
              this.onClosedWhileClosing();
              return;
            }
            this.fail(`idle connection closed ${closeText(code, reason)}`);
            countOnce();
          },
        });
        this.sockets.push(ws);
      };
      if (command.count === 0) finish();
      for (let i = 0; i < Math.min(command.concurrency, command.count); i++) openOne();
    });
  }

  check(): IdleResult {
    return this.report(0);
  }

  closeAll(command: IdleCloseCommand): Promise<IdleResult> {
    const startAt = performance.now();
    this.closing = true;
    const sockets = this.sockets.splice(0);
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.onClosedWhileClosing = () => undefined;
        const result = this.report(performance.now() - startAt);
        this.open = 0;
        this.failed = 0;
        this.failures.clear();
        this.closing = false;
        resolve(result);
      };
      const timer = setTimeout(() => {
        for (const ws of sockets) ws.terminate();
        done();
      }, command.timeoutMs);
      // Done when every registered connection has closed; the others have
      // ended already or are terminated by close().
      this.onClosedWhileClosing = () => {
        if (this.open === 0) done();
      };
      if (this.open === 0) {
        for (const ws of sockets) ws.terminate();
        done();
        return;
      }
      for (const ws of sockets) ws.close();
    });
  }

  private fail(reason: string): void {
    this.failed++;
    countFailure(this.failures, reason);
  }

  private report(elapsedMs: number): IdleResult {
    return { open: this.open, failed: this.failed, failures: failureRecord(this.failures), elapsedMs };
  }
}

const idle = new IdlePool();

function execute(command: LoadGenCommand): Promise<HandshakeResult | IdleResult> {
  switch (command.kind) {
    case 'handshakes':
      return runHandshakes(command);
    case 'fanIn':
      return runFanIn(command);
    case 'idleOpen':
      return idle.openMany(command);
    case 'idleCheck':
      return Promise.resolve(idle.check());
    case 'idleClose':
      return idle.closeAll(command);
  }
}

function main(): void {
  const send = process.send?.bind(process);
  if (send === undefined) {
    process.stderr.write('load-gen: run me with child_process.fork (IPC); see bench/load-gen-client.ts\n');
    process.exit(2);
  }
  process.on('message', (request: LoadGenRequest) => {
    execute(request.command).then(
      (result) => send({ seq: request.seq, ok: true, result } as LoadGenReply),
      (error: unknown) =>
        send({
          seq: request.seq,
          ok: false,
          error: error instanceof Error ? (error.stack ?? error.message) : String(error),
        } satisfies LoadGenReply),
    );
  });
  // The driver owns this process: when it goes, so do we.
  process.on('disconnect', () => process.exit(0));
  send({ ready: true });
}

main();
