// The Sigver client SDK (`sigver/client`): browsers and Node, either dialect.

export { connectPeer } from './connect-peer.js';
export { fetchIceServers } from './ice-servers.js';
export type { FetchIceServersOptions } from './ice-servers.js';
export type { IceServer } from '../protocol/ice-servers.js';
export type { ConnectPeerOptions, HostOptions, JoinerOptions, PeerSession } from './connect-peer.js';
export { hostPeers, SigverHost } from './host-peers.js';
export type { HostedPeer, HostPeersOptions, SigverHostOptions } from './host-peers.js';
export { SigverClient } from './sigver-client.js';
export type {
  ClientRole,
  ClientState,
  Registration,
  RelayEvent,
  SigverClientEvents,
  SigverClientOptions,
} from './sigver-client.js';
export { CLIENT_ERRORS, SigverClientError } from './client-error.js';
export type { ClientErrorCode, SigverClientErrorDetails } from './client-error.js';
export { CIPHER_FORMAT, PBKDF2_ITERATIONS } from './payload-cipher.js';
export type { SealedPayload } from './payload-cipher.js';
export { DEFAULT_RECONNECT } from './backoff.js';
export type { ReconnectOptions } from './backoff.js';
export type { PeerOptions, RtcConfigurationLike } from './peer-options.js';
export type {
  ChannelOf,
  DataChannelLike,
  IceCandidateInit,
  PeerConnectionConstructor,
  PeerConnectionLike,
  SessionDescriptionInit,
  WebSocketConstructor,
  WebSocketLike,
} from './rtc-like.js';
export type { WaitOptions } from './waits.js';
export { V1_SUBPROTOCOL } from '../protocol/dialect.js';
export type { Dialect } from '../protocol/dialect.js';
export type { ErrorCode } from '../protocol/errors.js';
