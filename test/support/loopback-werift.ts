// werift's RTCPeerConnection for tests: it gathers 127.0.0.1 (werift skips
// loopback unless told), checks loopback pairs only, and asks a STUN server
// on loopback (werift would otherwise ask a public one).

import { RTCPeerConnection as WeriftPeerConnection, type RTCPeerConnectionConfig } from 'werift';
import { startStunResponder } from './stun-responder.js';

const LOOPBACK = '127.0.0.1';
const stun = await startStunResponder();

/** ICE servers that keep werift on this machine. */
export const LOCAL_ICE_SERVERS = [{ urls: `stun:${LOOPBACK}:${stun.port}` }];

/** werift confined to loopback: for tests in the machine's own network namespace. */
export class RTCPeerConnection extends WeriftPeerConnection {
  constructor(config: RTCPeerConnectionConfig = {}) {
    super({
      ...config,
      iceServers: LOCAL_ICE_SERVERS,
      iceUseIpv6: false,
      iceAdditionalHostAddresses: [LOOPBACK],
      iceFilterCandidatePair: (pair) => pair.localCandidate.host === LOOPBACK && pair.remoteCandidate.host === LOOPBACK,
    });
  }
}

/**
 * werift on `address` (a private network namespace's interface), with a
 * STUN server of its own there: a socket on that address cannot reach one
 * on loopback.
 */
export async function weriftOn(address: string): Promise<typeof WeriftPeerConnection> {
  const local = await startStunResponder(address);
  return class PrivateNetworkPeerConnection extends WeriftPeerConnection {
    constructor(config: RTCPeerConnectionConfig = {}) {
      super({ ...config, iceServers: [{ urls: `stun:${address}:${local.port}` }], iceUseIpv6: false });
    }
  };
}
