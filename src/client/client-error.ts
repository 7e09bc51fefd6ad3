// The SDK's one error type: server refusals (v1 codes, or v0 closes mapped
// onto the same codes) and the client's own failures, each with a stable code.

import { CLOSES, ERRORS, type ErrorCode } from '../protocol/errors.js';

/** Failures of the client itself, with their messages. */
export const CLIENT_ERRORS = {
  TIMEOUT: 'The wait timed out',
  CLOSED: 'The connection to the server closed',
  NOT_CONNECTED: 'The client is not connected',
  CONNECT_FAILED: 'Could not open the WebSocket connection',
  PEER_GONE: 'The peer is no longer available',
  REPLACED: 'Another connection resumed this key',
  DECRYPT_FAILED: 'A relayed payload could not be decrypted (wrong password, or not encrypted)',
  BAD_PAYLOAD: 'A relayed payload is not a valid session description or ICE candidate',
  PEER_FAILED: 'The WebRTC connection failed',
  NO_WEBSOCKET: 'No WebSocket implementation: pass the WebSocket option',
  NO_PEER_CONNECTION: 'No RTCPeerConnection implementation: pass the RTCPeerConnection option',
  SERVER_ERROR: 'The server refused a request with an error code this client does not know',
} as const;

/** A code carried by {@link SigverClientError}: a server error code or a client one. */
export type ClientErrorCode = ErrorCode | keyof typeof CLIENT_ERRORS;

/** Details that some errors carry. */
export interface SigverClientErrorDetails {
  /** Close status code, when the error comes from a closed connection. */
  readonly closeCode?: number;
  /** Close reason text, when the error comes from a closed connection. */
  readonly closeReason?: string;
  /** The joiner the error is about, on a host. */
  readonly joinerId?: number;
  /** The relayed payload kind the error is about. */
  readonly kind?: 'offer' | 'answer' | 'candidate';
  /** The underlying error. */
  readonly cause?: unknown;
}

/**
 * An error from the Sigver client. Switch on {@link SigverClientError.code},
 * never on the message.
 *
 * @example
 * try { await client.join('room'); }
 * catch (error) { if (error instanceof SigverClientError && error.code === 'KEY_UNKNOWN') ... }
 */
export class SigverClientError extends Error {
  override readonly name = 'SigverClientError';
  /** Stable code: a v1 error code (docs/PROTOCOL.md) or one of {@link CLIENT_ERRORS}. */
  readonly code: ClientErrorCode;
  /** Close status code, when the error comes from a closed connection. */
  readonly closeCode: number | undefined;
  /** Close reason text, when the error comes from a closed connection. */
  readonly closeReason: string | undefined;
  /** The joiner the error is about, on a host. */
  readonly joinerId: number | undefined;
  /** The relayed payload kind the error is about. */
  readonly kind: 'offer' | 'answer' | 'candidate' | undefined;

  constructor(code: ClientErrorCode, message?: string, details: SigverClientErrorDetails = {}) {
    super(message ?? defaultMessage(code), details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.closeCode = details.closeCode;
    this.closeReason = details.closeReason;
    this.joinerId = details.joinerId;
    this.kind = details.kind;
  }
}

function defaultMessage(code: ClientErrorCode): string {
  return code in ERRORS ? ERRORS[code as ErrorCode].message : CLIENT_ERRORS[code as keyof typeof CLIENT_ERRORS];
}

/**
 * Turns a close frame into an error. v0 refusals arrive as 1008/1007 closes
 * whose reasons are part of the contract, so they map back onto the v1 codes
 * of the same catalogue; anything else is `CLOSED`.
 */
export function errorFromClose(code: number, reason: string): SigverClientError {
  const details = { closeCode: code, closeReason: reason };
  if (code === CLOSES.PEER_GONE.code && reason === CLOSES.PEER_GONE.reason) {
    return new SigverClientError('PEER_GONE', undefined, details);
  }
  if (code === CLOSES.REPLACED.code) return new SigverClientError('REPLACED', undefined, details);
  for (const name of Object.keys(ERRORS) as ErrorCode[]) {
    const v0 = ERRORS[name].v0;
    if (v0.code === code && v0.reason === reason) return new SigverClientError(name, undefined, details);
  }
  const message = `${CLIENT_ERRORS.CLOSED} (${code}${reason === '' ? '' : ` ${reason}`})`;
  return new SigverClientError('CLOSED', message, details);
}
