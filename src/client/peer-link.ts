// The WebRTC side of one peer connection: offer/answer, trickled or
// complete candidates, and waits for ICE gathering and the data channel.

import { SigverClientError } from './client-error.js';
import type {
  DataChannelLike,
  IceCandidateInit,
  IceCandidateLike,
  PeerConnectionLike,
  SessionDescriptionInit,
} from './rtc-like.js';
import { settleOnce, type WaitOptions } from './waits.js';

/** Default limit of a renegotiation (offer sent, answer applied), in milliseconds. */
export const DEFAULT_RENEGOTIATION_TIMEOUT_MS = 10_000;

/** How a {@link PeerLink} reaches the other peer. */
export interface PeerLinkOptions {
  /** Trickle ICE: send candidates one by one (v1); otherwise wait for gathering and send one complete description (v0). */
  readonly trickle: boolean;
  readonly sendDescription: (description: SessionDescriptionInit) => Promise<void>;
  readonly sendCandidate: (candidate: IceCandidateInit | null) => Promise<void>;
  /** Called when sending fails; the handshake decides what that means. */
  readonly onSendError: (error: unknown) => void;
  /** Longest wait for ICE gathering before sending what was gathered, in milliseconds. */
  readonly gatherTimeoutMs: number;
}

/**
 * Drives the signaling of one RTCPeerConnection. Remote candidates that
 * arrive before the remote description are queued (the relay may deliver
 * them first); local candidates are held until the description they belong
 * to has been sent, so the other side never gets a candidate first.
 */
export class PeerLink {
  readonly #pc: PeerConnectionLike;
  readonly #options: PeerLinkOptions;
  #remoteSet = false;
  #remoteQueue: (IceCandidateInit | null)[] = [];
  #localReady = false;
  #localQueue: (IceCandidateInit | null)[] = [];
  /** Resolves the renegotiation waiting for its answer, if any. */
  #onAnswer: (() => void) | undefined;
  /** Renegotiations run one after the other: a second offer before the first answer would be refused. */
  #renegotiations: Promise<void> = Promise.resolve();
  readonly #onIceCandidate: (event: { readonly candidate?: IceCandidateLike | null | undefined }) => void;

  constructor(pc: PeerConnectionLike, options: PeerLinkOptions) {
    this.#pc = pc;
    this.#options = options;
    this.#onIceCandidate = (event) => {
      if (!this.#options.trickle) return;
      const candidate = event.candidate == null ? null : toCandidateInit(event.candidate);
      if (this.#localReady) this.#sendCandidate(candidate);
      else this.#localQueue.push(candidate);
    };
    pc.addEventListener('icecandidate', this.#onIceCandidate);
  }

  /** Creates and sends an offer. */
  async offer(signal?: AbortSignal): Promise<void> {
    const offer = await this.#pc.createOffer();
    this.#localReady = false;
    await this.#pc.setLocalDescription(toDescription(offer, 'offer'));
    await this.#sendLocal('offer', signal);
  }

  /** Applies a remote offer, then creates and sends the answer. */
  async answerOffer(data: unknown, signal?: AbortSignal): Promise<void> {
    const offer = parseDescription(data, 'offer');
    this.#localReady = false;
    await this.#pc.setRemoteDescription(offer);
    await this.#flushRemote();
    const answer = await this.#pc.createAnswer();
    await this.#pc.setLocalDescription(toDescription(answer, 'answer'));
    await this.#sendLocal('answer', signal);
  }

  /** Applies the remote answer to our offer. */
  async acceptAnswer(data: unknown): Promise<void> {
    await this.#pc.setRemoteDescription(parseDescription(data, 'answer'));
    await this.#flushRemote();
    this.#onAnswer?.();
  }

  /**
   * Offers again on a connection already set up (after adding or removing
   * tracks or channels) and resolves once the answer is applied. Calls made
   * while one is in progress wait for it.
   */
  renegotiate(options: WaitOptions = {}): Promise<void> {
    const run = this.#renegotiations.then(async () => {
      const answered = settleOnce<void>(
        (resolve) => {
          this.#onAnswer = resolve;
          return () => {
            this.#onAnswer = undefined;
          };
        },
        { signal: options.signal, timeoutMs: options.timeoutMs ?? DEFAULT_RENEGOTIATION_TIMEOUT_MS },
        'the answer to a renegotiation',
      );
      answered.catch(() => {});
      await this.offer(options.signal);
      await answered;
    });
    this.#renegotiations = run.catch(() => {});
    return run;
  }

  /** Adds a remote candidate (`null` or an empty candidate: end of candidates). */
  async addRemoteCandidate(data: unknown): Promise<void> {
    const candidate = parseCandidate(data);
    if (!this.#remoteSet) {
      this.#remoteQueue.push(candidate);
      return;
    }
    await addCandidate(this.#pc, candidate);
  }

  /** Stops listening to the peer connection. */
  dispose(): void {
    this.#pc.removeEventListener('icecandidate', this.#onIceCandidate);
  }

  async #sendLocal(type: 'offer' | 'answer', signal: AbortSignal | undefined): Promise<void> {
    if (!this.#options.trickle) {
      await waitGatheringComplete(this.#pc, { signal, timeoutMs: this.#options.gatherTimeoutMs });
    }
    const local = this.#pc.localDescription;
    if (local === null) throw new SigverClientError('PEER_FAILED', 'No local description after setLocalDescription');
    const sent = this.#options.sendDescription(toDescription(local, type));
    // The relay keeps order, so candidates queued behind the description arrive after it.
    this.#localReady = true;
    const queued = this.#localQueue;
    this.#localQueue = [];
    for (const candidate of queued) this.#sendCandidate(candidate);
    await sent;
  }

  #sendCandidate(candidate: IceCandidateInit | null): void {
    this.#options.sendCandidate(candidate).catch(this.#options.onSendError);
  }

  async #flushRemote(): Promise<void> {
    this.#remoteSet = true;
    const queued = this.#remoteQueue;
    this.#remoteQueue = [];
    for (const candidate of queued) await addCandidate(this.#pc, candidate);
  }
}

/** Resolves when `pc` has finished gathering ICE candidates, or when the wait times out. */
export async function waitGatheringComplete(pc: PeerConnectionLike, options: WaitOptions): Promise<void> {
  try {
    await settleOnce<void>(
      (resolve) => {
        if (pc.iceGatheringState === 'complete') {
          resolve();
          return () => {};
        }
        const onState = (): void => {
          if (pc.iceGatheringState === 'complete') resolve();
        };
        const onCandidate = (event: { readonly candidate?: IceCandidateLike | null | undefined }): void => {
          if (event.candidate == null) resolve();
        };
        pc.addEventListener('icegatheringstatechange', onState);
        pc.addEventListener('icecandidate', onCandidate);
        return () => {
          pc.removeEventListener('icegatheringstatechange', onState);
          pc.removeEventListener('icecandidate', onCandidate);
        };
      },
      options,
      'ICE gathering',
    );
  } catch (error) {
    // Without trickle, whatever was gathered in time is better than nothing.
    if (error instanceof SigverClientError && error.code === 'TIMEOUT') return;
    throw error;
  }
}

/** Resolves when `channel` is open; rejects if it closes or `pc` fails first. */
export function waitChannelOpen(pc: PeerConnectionLike, channel: DataChannelLike, options: WaitOptions): Promise<void> {
  return settleOnce<void>(
    (resolve, reject) => {
      if (channel.readyState === 'open') {
        resolve();
        return () => {};
      }
      const onOpen = (): void => resolve();
      const onClose = (): void =>
        reject(new SigverClientError('PEER_FAILED', 'The data channel closed before it opened'));
      const onState = (): void => {
        if (pc.connectionState === 'failed' || pc.connectionState === 'closed') {
          reject(new SigverClientError('PEER_FAILED', `The peer connection is ${pc.connectionState}`));
        }
      };
      channel.addEventListener('open', onOpen);
      channel.addEventListener('close', onClose);
      pc.addEventListener('connectionstatechange', onState);
      return () => {
        channel.removeEventListener('open', onOpen);
        channel.removeEventListener('close', onClose);
        pc.removeEventListener('connectionstatechange', onState);
      };
    },
    options,
    'the data channel to open',
  );
}

/** Resolves with the first data channel the remote peer opens on `pc`. */
export function waitRemoteChannel(pc: PeerConnectionLike, options: WaitOptions): Promise<DataChannelLike> {
  return settleOnce<DataChannelLike>(
    (resolve, reject) => {
      const onChannel = (event: { readonly channel: DataChannelLike }): void => resolve(event.channel);
      const onState = (): void => {
        if (pc.connectionState === 'failed' || pc.connectionState === 'closed') {
          reject(new SigverClientError('PEER_FAILED', `The peer connection is ${pc.connectionState}`));
        }
      };
      pc.addEventListener('datachannel', onChannel);
      pc.addEventListener('connectionstatechange', onState);
      return () => {
        pc.removeEventListener('datachannel', onChannel);
        pc.removeEventListener('connectionstatechange', onState);
      };
    },
    options,
    'a data channel from the peer',
  );
}

/** True when an SDP already carries candidates: its sender does not trickle (v0). */
export function sdpHasCandidates(data: unknown): boolean {
  return (
    typeof data === 'object' &&
    data !== null &&
    typeof (data as { sdp?: unknown }).sdp === 'string' &&
    /^a=candidate:/m.test((data as { sdp: string }).sdp)
  );
}

function toDescription(
  description: { readonly type: string; readonly sdp?: string | undefined },
  type: 'offer' | 'answer',
): SessionDescriptionInit {
  return { type, sdp: description.sdp ?? '' };
}

function parseDescription(data: unknown, type: 'offer' | 'answer'): SessionDescriptionInit {
  if (typeof data !== 'object' || data === null)
    throw new SigverClientError('BAD_PAYLOAD', `The ${type} is not an object`);
  const { type: actual, sdp } = data as { type?: unknown; sdp?: unknown };
  if (actual !== type || typeof sdp !== 'string') {
    throw new SigverClientError('BAD_PAYLOAD', `Expected {"type": "${type}", "sdp": "..."}`);
  }
  return { type, sdp };
}

function parseCandidate(data: unknown): IceCandidateInit | null {
  if (data === null || data === undefined) return null;
  if (typeof data !== 'object') throw new SigverClientError('BAD_PAYLOAD', 'The candidate is not an object');
  const { candidate, sdpMid, sdpMLineIndex, usernameFragment } = data as Record<string, unknown>;
  if (typeof candidate !== 'string')
    throw new SigverClientError('BAD_PAYLOAD', 'The candidate has no "candidate" string');
  if (candidate === '') return null;
  const init: IceCandidateInit = { candidate };
  if (typeof sdpMid === 'string' || sdpMid === null) init.sdpMid = sdpMid;
  if (typeof sdpMLineIndex === 'number' || sdpMLineIndex === null) init.sdpMLineIndex = sdpMLineIndex;
  if (typeof usernameFragment === 'string' || usernameFragment === null) init.usernameFragment = usernameFragment;
  if (init.sdpMid == null && init.sdpMLineIndex == null) init.sdpMLineIndex = 0;
  return init;
}

function toCandidateInit(candidate: IceCandidateLike): IceCandidateInit | null {
  if (candidate.candidate === undefined || candidate.candidate === '') return null;
  return {
    candidate: candidate.candidate,
    sdpMid: candidate.sdpMid ?? null,
    sdpMLineIndex: candidate.sdpMLineIndex ?? null,
    usernameFragment: candidate.usernameFragment ?? null,
  };
}

async function addCandidate(pc: PeerConnectionLike, candidate: IceCandidateInit | null): Promise<void> {
  try {
    await pc.addIceCandidate(candidate);
  } catch {
    // One unusable candidate (another address family, a late end-of-candidates)
    // must not end a handshake that other candidates can complete.
  }
}
