// @ts-check
// ICE candidates in words: from getStats() entries and from candidate lines,
// and what a selected pair says about how the peers are connected.

/**
 * The fields of an RTCIceCandidateStats entry that the page reads.
 *
 * @typedef {object} CandidateStats
 * @property {string} id
 * @property {string} [candidateType] host, srflx, prflx or relay
 * @property {string} [protocol] udp or tcp
 * @property {string} [relayProtocol] how a relay candidate reaches its TURN server
 * @property {string | null} [address]
 * @property {string} [ip] the older name of `address`
 * @property {number} [port]
 * @property {string} [url] the STUN or TURN server that gave it
 */

/**
 * A candidate line of SDP or an ICE candidate's `candidate` string, parsed.
 *
 * @typedef {object} CandidateLine
 * @property {string | undefined} type
 * @property {string | undefined} protocol
 * @property {string | undefined} address
 * @property {string | undefined} port
 */

/**
 * `address:port`, with brackets around IPv6 addresses.
 *
 * @param {string | null | undefined} address
 * @param {number | string | undefined} port
 */
export function hostPort(address, port) {
  // Browsers do not disclose the address of a peer-reflexive remote candidate.
  if (!address)
    return port === undefined ? '(address hidden by the browser)' : `(address hidden by the browser):${port}`;
  const host = address.includes(':') ? `[${address}]` : address;
  return port === undefined ? host : `${host}:${port}`;
}

/**
 * `host udp 127.0.0.1:50000`, from an RTCIceCandidateStats.
 *
 * @param {CandidateStats | undefined} candidate
 */
export function describeCandidate(candidate) {
  if (candidate === undefined) return 'unknown';
  const relay = candidate.relayProtocol ? ` (to the relay over ${candidate.relayProtocol})` : '';
  return `${candidate.candidateType} ${candidate.protocol}${relay} ${hostPort(candidate.address ?? candidate.ip, candidate.port)}`;
}

/**
 * `{ type, protocol, address, port }` of a candidate line, or undefined.
 *
 * @param {unknown} line
 * @returns {CandidateLine | undefined}
 */
export function parseCandidateLine(line) {
  // candidate:<foundation> <component> <protocol> <priority> <address> <port> typ <type> ...
  const fields = String(line).replace(/^a=/, '').split(' ');
  const typeAt = fields.indexOf('typ');
  if (fields.length < 8 || typeAt < 0) return undefined;
  return { type: fields[typeAt + 1], protocol: fields[2]?.toLowerCase(), address: fields[4], port: fields[5] };
}

/**
 * `host udp 127.0.0.1:50000`, from a candidate line of SDP or an ICE candidate's `candidate` string.
 *
 * @param {unknown} line
 */
export function describeCandidateLine(line) {
  const candidate = parseCandidateLine(line);
  if (candidate === undefined) return String(line);
  return `${candidate.type} ${candidate.protocol} ${hostPort(candidate.address, candidate.port)}`;
}

/**
 * The type of the selected remote candidate. A connectivity check that
 * arrives before the candidate it comes from makes a peer-reflexive
 * candidate, which keeps that type in the statistics (and its address
 * hidden) even once the signaled candidate arrives: a signaled candidate
 * of one type with the same protocol and port is what it really is.
 *
 * @param {CandidateStats | undefined} remote
 * @param {readonly string[]} signaledLines
 */
export function remoteType(remote, signaledLines) {
  if (remote?.candidateType !== 'prflx') return remote?.candidateType;
  /** @type {Set<string | undefined>} */
  const types = new Set();
  for (const line of signaledLines) {
    const candidate = parseCandidateLine(line);
    if (candidate === undefined) continue;
    const sameAddress = !remote.address || candidate.address === remote.address;
    if (candidate.protocol === remote.protocol && candidate.port === String(remote.port) && sameAddress) {
      types.add(candidate.type);
    }
  }
  return types.size === 1 ? [...types][0] : 'prflx';
}

/**
 * In plain words, how a selected pair carries the data.
 *
 * @param {CandidateStats | undefined} local
 * @param {CandidateStats | undefined} remote
 * @param {readonly string[]} signaledLines candidate lines the other peer signaled
 */
export function explainPair(local, remote, signaledLines) {
  const types = [local?.candidateType, remoteType(remote, signaledLines)];
  const transport = (local?.relayProtocol ?? local?.protocol ?? '').toUpperCase();
  if (types.includes('relay')) return `Relayed through a TURN server, over ${transport}.`;
  if (types.includes('srflx'))
    return `Direct, through NAT: an address found with STUN (server-reflexive), over ${transport}.`;
  if (types.includes('prflx')) {
    // Checks that overtake the peer's candidate on one machine make one too: that alone says nothing of a NAT.
    return `Direct, over ${transport}. The peer's address was learned from its connectivity checks (peer-reflexive), not from a candidate it signaled.`;
  }
  return `Direct, host to host (same machine or local network), over ${transport}.`;
}
