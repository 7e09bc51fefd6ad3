// What each layer is given of the settings: the fields it reads and nothing
// else. The core and the gateway never see a secret (access-token or TURN
// secret, TLS files), so no log, error or dump of theirs can leak one.

import type { SignalingLimits } from '../core/signaling.js';
import type { Settings } from '../options.js';
import type { GatewayLimits } from '../transport/websocket-gateway.js';

/** The signaling core's limits. */
export function signalingLimits(settings: Settings): SignalingLimits {
  return {
    maxJoiners: settings.maxJoiners,
    maxPendingOffers: settings.maxPendingOffers,
    resumeGraceMs: settings.resumeGraceMs,
    rateLimit: settings.rateLimit,
    rateBurst: settings.rateBurst,
    maxTopics: settings.maxTopics,
    maxTopicMembers: settings.maxTopicMembers,
    maxPublishBytes: settings.maxPublishBytes,
    peerjs: { expireMs: settings.peerjsExpireMs },
  };
}

/** The WebSocket gateway's limits. */
export function gatewayLimits(settings: Settings): GatewayLimits {
  return {
    maxFrameBytes: settings.maxFrameBytes,
    maxConnections: settings.maxConnections,
    slowConsumerBytes: settings.slowConsumerBytes,
    heartbeatMs: settings.heartbeatMs,
    byteRate: settings.byteRate,
    byteBurst: settings.byteBurst,
    messageTimeoutMs: settings.messageTimeoutMs,
  };
}
