// Public API of the `sigver` package.

export { createSigverServer } from './server.js';
export type { ListeningAddress, SigverServer, SigverServerOptions } from './server.js';
export { DEFAULT_SETTINGS, SETTINGS, SettingError, resolveSettings } from './options.js';
export type { SettingName, Settings } from './options.js';
export { Signaling } from './core/signaling.js';
export type { SignalingDeps, SignalingLimits, SignalingStats } from './core/signaling.js';
export { MemoryBackplane } from './cluster/memory-backplane.js';
export type * from './core/ports.js';
export * from './protocol/index.js';
