// The dialects a connection can speak and how a connection picks one.

/**
 * v0 is the original Sigver protocol; v1 extends it; `ywebrtc` is the
 * signaling protocol of y-webrtc's own server; `peerjs` that of PeerJS's
 * server, `peer` (docs/PROTOCOL.md).
 */
export type Dialect = 'v0' | 'v1' | 'ywebrtc' | 'peerjs';

/** Every dialect, for metrics labels and counts. */
export const DIALECTS: readonly Dialect[] = ['v0', 'v1', 'ywebrtc', 'peerjs'];

/** The WebSocket subprotocol a client offers to speak v1. */
export const V1_SUBPROTOCOL = 'sigver.v1';

/**
 * Prefix of the subprotocol entry that carries an access token
 * (`sigver.auth.<token>`), for browsers, which cannot set headers on a
 * WebSocket upgrade.
 */
export const ACCESS_TOKEN_SUBPROTOCOL_PREFIX = 'sigver.auth.';

/**
 * The subprotocol the server selects among those a client offers:
 * `sigver.v1` if offered (v1), else the access token entry (v0: a browser
 * fails a connection when it offered subprotocols and the server selects
 * none), else none (v0).
 *
 * @example
 * selectSubprotocol(['sigver.auth.abc', 'sigver.v1']) // 'sigver.v1'
 * selectSubprotocol(['sigver.auth.abc'])              // 'sigver.auth.abc'
 */
export function selectSubprotocol(offered: Iterable<string>): string | undefined {
  let token: string | undefined;
  for (const protocol of offered) {
    // The constant, not the client's copy: a connection keeps what is returned for its life.
    if (protocol === V1_SUBPROTOCOL) return V1_SUBPROTOCOL;
    if (token === undefined && protocol.startsWith(ACCESS_TOKEN_SUBPROTOCOL_PREFIX)) token = protocol;
  }
  return token;
}

/** The dialect a connection speaks, from the subprotocol the server selected. */
export function dialectOf(selected: string | undefined): Dialect {
  return selected === V1_SUBPROTOCOL ? 'v1' : 'v0';
}
