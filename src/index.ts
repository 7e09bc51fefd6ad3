// Public API of the `sigver` package.

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
export type { Logger } from './ops/logger.js';
export { SigverMetrics } from './ops/metrics.js';
export { mintAccessToken, verifyAccessToken } from './ops/access-token.js';
export type { AccessClaims, AccessVerdict } from './ops/access-token.js';
export { OriginPolicy } from './ops/origin-policy.js';
export { iceServers, turnCredential } from './ops/turn-credentials.js';
export type { IceServer, IceServersResponse, TurnConfig } from './ops/turn-credentials.js';
export { MemoryBackplane } from './cluster/memory-backplane.js';
export type * from './core/ports.js';
export * from './protocol/index.js';
