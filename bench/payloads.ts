// Benchmark payloads: a browser-like SDP offer and answer (about 3 KB each)
// and trickle ICE candidates, built once and framed as ready-to-send buffers.

/** An RTCSessionDescriptionInit as a browser hands it to the signaling layer. */
export interface SessionDescription {
  readonly type: 'offer' | 'answer';
  readonly sdp: string;
}

/** An RTCIceCandidateInit as a browser hands it to the signaling layer. */
export interface IceCandidate {
  readonly candidate: string;
  readonly sdpMid: string;
  readonly sdpMLineIndex: number;
  readonly usernameFragment: string;
}

/** Candidates each side sends in a v1 handshake. */
export const CANDIDATES_PER_SIDE = 8;

const VIDEO_CODECS: ReadonlyArray<readonly [number, string, number | null]> = [
  [96, 'VP8/90000', 97],
  [98, 'VP9/90000', 99],
  [100, 'H264/90000', 101],
  [102, 'H264/90000', 103],
];

function mediaSection(
  lines: string[],
  kind: 'audio' | 'video',
  mid: string,
  role: 'offer' | 'answer',
  ufrag: string,
  pwd: string,
  fingerprint: string,
): void {
  const payloads =
    kind === 'audio'
      ? '111 63 9 0 8 13 110 126'
      : VIDEO_CODECS.flatMap(([pt, , rtx]) => (rtx === null ? [pt] : [pt, rtx])).join(' ');
  lines.push(
    `m=${kind} 9 UDP/TLS/RTP/SAVPF ${payloads}`,
    'c=IN IP4 0.0.0.0',
    'a=rtcp:9 IN IP4 0.0.0.0',
    `a=ice-ufrag:${ufrag}`,
    `a=ice-pwd:${pwd}`,
    'a=ice-options:trickle',
    `a=fingerprint:sha-256 ${fingerprint}`,
    `a=setup:${role === 'offer' ? 'actpass' : 'active'}`,
    `a=mid:${mid}`,
    'a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level',
    'a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
    'a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
    'a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid',
    'a=sendrecv',
    `a=msid:stream-${ufrag} track-${kind}-${ufrag}`,
    'a=rtcp-mux',
  );
  if (kind === 'audio') {
    lines.push(
      'a=rtpmap:111 opus/48000/2',
      'a=rtcp-fb:111 transport-cc',
      'a=fmtp:111 minptime=10;useinbandfec=1',
      'a=rtpmap:63 red/48000/2',
      'a=fmtp:63 111/111',
      'a=rtpmap:9 G722/8000',
      'a=rtpmap:0 PCMU/8000',
      'a=rtpmap:8 PCMA/8000',
      'a=rtpmap:13 CN/8000',
      'a=rtpmap:110 telephone-event/48000',
      'a=rtpmap:126 telephone-event/8000',
      `a=ssrc:${1_000_000 + ufrag.length} cname:${pwd.slice(0, 16)}`,
    );
    return;
  }
  lines.push('a=rtcp-rsize');
  for (const [pt, codec, rtx] of VIDEO_CODECS) {
    lines.push(
      `a=rtpmap:${pt} ${codec}`,
      `a=rtcp-fb:${pt} goog-remb`,
      `a=rtcp-fb:${pt} transport-cc`,
      `a=rtcp-fb:${pt} ccm fir`,
      `a=rtcp-fb:${pt} nack`,
      `a=rtcp-fb:${pt} nack pli`,
    );
    if (codec.startsWith('H264')) {
      lines.push(
        `a=fmtp:${pt} level-asymmetry-allowed=1;packetization-mode=${pt === 100 ? 1 : 0};profile-level-id=42e01f`,
      );
    }
    if (rtx !== null) lines.push(`a=rtpmap:${rtx} rtx/90000`, `a=fmtp:${rtx} apt=${pt}`);
  }
  lines.push(
    `a=ssrc-group:FID ${2_000_000 + ufrag.length} ${3_000_000 + ufrag.length}`,
    `a=ssrc:${2_000_000 + ufrag.length} cname:${pwd.slice(0, 16)}`,
  );
}

/**
 * A browser-shaped session description: one audio, one video and one data
 * channel section, bundled, with trickle ICE (so no candidates inside).
 */
export function makeSessionDescription(type: 'offer' | 'answer'): SessionDescription {
  // Fixed, made-up credentials: the server never looks inside, and fixed
  // text keeps runs comparable.
  const ufrag = type === 'offer' ? 'EsAw' : 'k9Qd';
  const pwd = type === 'offer' ? 'P2uYro0UCOQ4zxjKXaWCBui1' : 'wJ8sDd0fOnZ1r4cV3bKe7mQh';
  const fingerprint = Array.from({ length: 32 }, (_, i) =>
    ((i * 37 + (type === 'offer' ? 11 : 29)) % 256).toString(16).toUpperCase().padStart(2, '0'),
  ).join(':');
  const lines = [
    'v=0',
    `o=- ${type === 'offer' ? '4611731400430051336' : '2716183340128410922'} 2 IN IP4 127.0.0.1`,
    's=-',
    't=0 0',
    'a=group:BUNDLE 0 1 2',
    'a=extmap-allow-mixed',
    'a=msid-semantic: WMS',
  ];
  mediaSection(lines, 'audio', '0', type, ufrag, pwd, fingerprint);
  mediaSection(lines, 'video', '1', type, ufrag, pwd, fingerprint);
  lines.push(
    'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
    'c=IN IP4 0.0.0.0',
    `a=ice-ufrag:${ufrag}`,
    `a=ice-pwd:${pwd}`,
    'a=ice-options:trickle',
    `a=fingerprint:sha-256 ${fingerprint}`,
    `a=setup:${type === 'offer' ? 'actpass' : 'active'}`,
    'a=mid:2',
    'a=sctp-port:5000',
    'a=max-message-size:262144',
  );
  return { type, sdp: `${lines.join('\r\n')}\r\n` };
}

/**
 * The i-th trickle ICE candidate of one side: host, server-reflexive and
 * relay candidates over UDP and TCP, as a browser gathers them. Addresses are
 * documentation ranges; they are payload text only.
 */
export function makeCandidate(side: 'offer' | 'answer', i: number): IceCandidate {
  const ufrag = side === 'offer' ? 'EsAw' : 'k9Qd';
  const port = 50_000 + i * 7 + (side === 'offer' ? 0 : 3);
  const foundation = 1_000_000_000 + i * 7919 + (side === 'offer' ? 0 : 104_729);
  const kinds = [
    `udp 2122260223 192.0.2.${10 + i} ${port} typ host generation 0`,
    `tcp 1518280447 192.0.2.${10 + i} 9 typ host tcptype active generation 0`,
    `udp 1686052607 203.0.113.${20 + i} ${port + 1} typ srflx raddr 192.0.2.${10 + i} rport ${port} generation 0`,
    `udp 41885439 198.51.100.${30 + i} ${port + 2} typ relay raddr 203.0.113.${20 + i} rport ${port + 1} generation 0`,
  ];
  const body = kinds[i % kinds.length] ?? kinds[0];
  return {
    candidate: `candidate:${foundation} ${1 + (i % 2)} ${body} ufrag ${ufrag} network-id ${1 + (i % 3)} network-cost 10`,
    sdpMid: String(i % 3),
    sdpMLineIndex: i % 3,
    usernameFragment: ufrag,
  };
}

/** The frames a handshake sends, as text, in a form the server can check. */
export interface Payloads {
  readonly offerJson: string;
  readonly answerJson: string;
  readonly joinerCandidateJson: readonly string[];
  readonly hostCandidateJson: readonly string[];
}

/** Builds the JSON text of every payload once. */
export function makePayloads(): Payloads {
  return {
    offerJson: JSON.stringify(makeSessionDescription('offer')),
    answerJson: JSON.stringify(makeSessionDescription('answer')),
    joinerCandidateJson: Array.from({ length: CANDIDATES_PER_SIDE }, (_, i) =>
      JSON.stringify(makeCandidate('offer', i)),
    ),
    hostCandidateJson: Array.from({ length: CANDIDATES_PER_SIDE }, (_, i) =>
      JSON.stringify(makeCandidate('answer', i)),
    ),
  };
}
