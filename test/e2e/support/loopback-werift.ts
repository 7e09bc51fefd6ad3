// werift's RTCPeerConnection confined to the loopback interface: tests may
// send traffic to 127.0.0.1 only, and werift skips loopback addresses unless
// told to gather them.

import { RTCPeerConnection as WeriftPeerConnection, type RTCPeerConnectionConfig } from 'werift';

const LOOPBACK = '127.0.0.1';

/** werift's RTCPeerConnection that gathers 127.0.0.1 and checks loopback pairs only. */
export class RTCPeerConnection extends WeriftPeerConnection {
  constructor(config: RTCPeerConnectionConfig = {}) {
    super({
      ...config,
      iceUseIpv6: false,
      iceAdditionalHostAddresses: [LOOPBACK],
      iceFilterCandidatePair: (pair) => pair.localCandidate.host === LOOPBACK && pair.remoteCandidate.host === LOOPBACK,
    });
  }
}
