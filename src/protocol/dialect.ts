// The two dialects of the wire protocol and how a connection picks one.

/** v0 is the original Sigver protocol; v1 extends it (docs/PROTOCOL.md). */
export type Dialect = 'v0' | 'v1';

/** The WebSocket subprotocol a client offers to speak v1. */
export const V1_SUBPROTOCOL = 'sigver.v1';
