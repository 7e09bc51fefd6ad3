// The body of `GET /ice-servers`: what the server vends and the client SDK
// hands to RTCPeerConnection.

/** An ICE server entry, as `new RTCPeerConnection({ iceServers })` takes it (RTCIceServer). */
export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

/** The JSON body of `GET /ice-servers`. */
export interface IceServersResponse {
  readonly iceServers: readonly IceServer[];
  /** Lifetime of the credentials, seconds. */
  readonly ttl: number;
  /** When the credentials expire, seconds since the Unix epoch. */
  readonly expiresAt: number;
}
