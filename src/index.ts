// Public API of the `sigver` package, named one by one: what an embedding
// application builds a server from, the ports it may implement (a backplane,
// a clock, an observer), and the parts of the wire contract it may switch on.
// Frame builders and parsers stay inside (src/protocol/).

export { createSigverServer } from './server.js';
export type { ListeningAddress, SigverServer, SigverServerOptions } from './server.js';
export { DEFAULT_SETTINGS, SETTINGS, SettingError, resolveSettings } from './options.js';
export { LOG_LEVELS } from './ops/log-level.js';
export type { SettingName, Settings } from './options.js';
export type { LogLevel } from './ops/log-level.js';
export { Signaling } from './core/signaling.js';
export type { ConnectionCensus, SignalingDeps, SignalingLimits, SignalingStats } from './core/signaling.js';
export { ANY_KEY } from './core/session.js';
export type { SessionGrant } from './core/session.js';
export type { GatewayHooks, UpgradeCheck, UpgradeRefusal } from './transport/websocket-gateway.js';
export type { RequestMiddleware } from './transport/http-routes.js';
export type { Logger } from './ops/logger.js';
export { SigverMetrics } from './ops/metrics.js';
export { mintAccessToken, verifyAccessToken } from './ops/access-token.js';
export type { AccessClaims, AccessVerdict } from './ops/access-token.js';
export { OriginPolicy } from './ops/origin-policy.js';
export { iceServers, turnCredential } from './ops/turn-credentials.js';
export type { TurnConfig } from './ops/turn-credentials.js';
export { MemoryBackplane } from './cluster/memory-backplane.js';
export type {
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
  Timer,
  TopicPublication,
} from './core/ports.js';
export {
  ACCESS_TOKEN_SUBPROTOCOL_PREFIX,
  CLOSES,
  DIALECTS,
  ERRORS,
  MAX_JSON_DEPTH,
  MAX_KEY_CODE_POINTS,
  V1_SUBPROTOCOL,
  normalizeKey,
} from './protocol/index.js';
export type { CloseSpec, Dialect, ErrorCode, IceServer, IceServersResponse, RelayKind } from './protocol/index.js';
