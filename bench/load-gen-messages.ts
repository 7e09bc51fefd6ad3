// The commands the benchmark driver sends to the load generator over IPC,
// and the results it gets back.

/** WebSocket dialect: v0 offers no subprotocol, v1 offers `sigver.v1`. */
export type Dialect = 'v0' | 'v1';

/** How much of the received traffic the load generator checks in full. */
export type Verify = 'none' | 'first' | 'all';

/**
 * Handshakes: each pair registers a key, joins it, relays an offer and an
 * answer (and, in v1, 8 ICE candidates each way), then both sides close.
 */
export interface HandshakeCommand {
  readonly kind: 'handshakes';
  /** URL the host connects to. */
  readonly hostUrl: string;
  /** URL the joiner connects to (the same as hostUrl on one process). */
  readonly joinUrl: string;
  readonly dialect: Dialect;
  /** Pairs in flight at saturation; the in-flight cap at a fixed rate. */
  readonly concurrency: number;
  /** Handshakes started per second; null runs at saturation. */
  readonly ratePerSec: number | null;
  /** How long new handshakes are started, ms. */
  readonly durationMs: number;
  /** Stop after this many handshakes were started; null: no cap. */
  readonly maxHandshakes: number | null;
  /** How long in-flight pairs may take to finish after the last start, ms. */
  readonly drainTimeoutMs: number;
  readonly verify: Verify;
}

/** Fan-in: one v1 host, N joiners handshaking with it at once. */
export interface FanInCommand {
  readonly kind: 'fanIn';
  readonly hostUrl: string;
  readonly joinUrl: string;
  readonly joiners: number;
  readonly timeoutMs: number;
  readonly verify: Verify;
}

/** Opens idle v1 connections that each register a key, and holds them. */
export interface IdleOpenCommand {
  readonly kind: 'idleOpen';
  readonly url: string;
  readonly count: number;
  /** Connections being opened at once. */
  readonly concurrency: number;
  readonly timeoutMs: number;
}

/** Reports on the idle connections held. */
export interface IdleCheckCommand {
  readonly kind: 'idleCheck';
}

/** Closes every idle connection held and waits until they are closed. */
export interface IdleCloseCommand {
  readonly kind: 'idleClose';
  readonly timeoutMs: number;
}

/** Any command of the load generator. */
export type LoadGenCommand = HandshakeCommand | FanInCommand | IdleOpenCommand | IdleCheckCommand | IdleCloseCommand;

/** Failure reasons with how often each was seen. */
export type FailureCounts = Readonly<Record<string, number>>;

/** Outcome of a handshake or fan-in workload. */
export interface HandshakeResult {
  readonly started: number;
  readonly completed: number;
  readonly failed: number;
  readonly failures: FailureCounts;
  /** Offers, answers and candidates received by the clients. */
  readonly relayed: number;
  /** From the first start to the last pair finished, ms. */
  readonly elapsedMs: number;
  /** Offer sent to answer received, ms, one per completed handshake. */
  readonly latenciesMs: readonly number[];
  /** Joiner's offer sent to host's offer received, ms (one joiner per session only). */
  readonly offerToHostMs: readonly number[];
  /** Host's answer sent to joiner's answer received, ms (one joiner per session only). */
  readonly answerToJoinerMs: readonly number[];
  /** CPU time the load generator used meanwhile, ms. */
  readonly clientCpuMs: number;
}

/** State of the idle connections held. */
export interface IdleResult {
  /** Connections open with their key registered. */
  readonly open: number;
  /** Connections that failed to open or register, or closed while held. */
  readonly failed: number;
  readonly failures: FailureCounts;
  readonly elapsedMs: number;
}

/** Result type of each command. */
export interface LoadGenResults {
  handshakes: HandshakeResult;
  fanIn: HandshakeResult;
  idleOpen: IdleResult;
  idleCheck: IdleResult;
  idleClose: IdleResult;
}

/** Driver to load generator. */
export interface LoadGenRequest {
  readonly seq: number;
  readonly command: LoadGenCommand;
}

/** Load generator to driver: the command's result, or why it threw. */
export type LoadGenReply =
  | { readonly seq: number; readonly ok: true; readonly result: LoadGenResults[keyof LoadGenResults] }
  | { readonly seq: number; readonly ok: false; readonly error: string };
