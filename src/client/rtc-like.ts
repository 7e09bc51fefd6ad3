// The small parts of WebSocket, RTCPeerConnection and RTCDataChannel that the
// SDK uses. Browsers' classes, the `ws` package and werift all fit them, so
// each runtime passes its own implementation and keeps its own types.

/** What the SDK needs of a WebSocket (the browser's, or the `ws` package's). */
export interface WebSocketLike {
  readonly readyState: number;
  /** The subprotocol the server selected; `''` when none. */
  readonly protocol: string;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open' | 'error', listener: () => void): void;
  addEventListener(type: 'close', listener: (event: { readonly code: number; readonly reason: string }) => void): void;
  addEventListener(type: 'message', listener: (event: { readonly data: unknown }) => void): void;
}

/** A WebSocket class: `globalThis.WebSocket` in browsers, `WebSocket` from `ws` in Node. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/** A session description as the SDK sends it: `{type, sdp}`. */
export interface SessionDescriptionInit {
  readonly type: 'offer' | 'answer';
  readonly sdp: string;
}

/** A local description as an implementation returns it. */
export interface SessionDescriptionLike {
  readonly type: string;
  readonly sdp?: string | undefined;
}

/** An ICE candidate in its JSON form (RTCIceCandidateInit). */
export interface IceCandidateInit {
  candidate?: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
  usernameFragment?: string | null;
}

/** An ICE candidate as an `icecandidate` event carries it. */
export interface IceCandidateLike {
  readonly candidate?: string | undefined;
  readonly sdpMid?: string | null | undefined;
  readonly sdpMLineIndex?: number | null | undefined;
  readonly usernameFragment?: string | null | undefined;
}

/** What the SDK needs of an RTCDataChannel. */
export interface DataChannelLike {
  readonly label: string;
  readonly readyState: string;
  send(data: string): void;
  close(): void;
  addEventListener(type: 'open' | 'close', listener: () => void): void;
  addEventListener(type: 'message', listener: (event: { readonly data: unknown }) => void): void;
  removeEventListener(type: 'open' | 'close', listener: () => void): void;
  removeEventListener(type: 'message', listener: (event: { readonly data: unknown }) => void): void;
}

/** What the SDK needs of an RTCPeerConnection (the browser's, or werift's). */
export interface PeerConnectionLike {
  readonly localDescription: SessionDescriptionLike | null;
  readonly iceGatheringState: string;
  readonly connectionState: string;
  createOffer(): Promise<SessionDescriptionLike>;
  createAnswer(): Promise<SessionDescriptionLike>;
  setLocalDescription(description: SessionDescriptionInit): Promise<unknown>;
  setRemoteDescription(description: SessionDescriptionInit): Promise<unknown>;
  addIceCandidate(candidate: IceCandidateInit | null): Promise<unknown>;
  createDataChannel(label: string): DataChannelLike;
  close(): unknown;
  addEventListener(
    type: 'icecandidate',
    listener: (event: { readonly candidate?: IceCandidateLike | null | undefined }) => void,
  ): void;
  addEventListener(type: 'datachannel', listener: (event: { readonly channel: DataChannelLike }) => void): void;
  addEventListener(type: 'icegatheringstatechange' | 'connectionstatechange', listener: () => void): void;
  removeEventListener(
    type: 'icecandidate',
    listener: (event: { readonly candidate?: IceCandidateLike | null | undefined }) => void,
  ): void;
  removeEventListener(type: 'datachannel', listener: (event: { readonly channel: DataChannelLike }) => void): void;
  removeEventListener(type: 'icegatheringstatechange' | 'connectionstatechange', listener: () => void): void;
}

/**
 * An RTCPeerConnection class whose constructor takes configuration `Config`
 * (`RTCConfiguration` in browsers, werift's own in Node).
 */
export type PeerConnectionConstructor<Config, PC extends PeerConnectionLike> = new (config?: Config) => PC;

/** The data channel type of a peer connection type. */
export type ChannelOf<PC extends PeerConnectionLike> = ReturnType<PC['createDataChannel']>;
