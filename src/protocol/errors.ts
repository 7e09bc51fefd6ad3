// The error catalogue: every refusal the server can answer with, its v1
// message and the close code and reason a v0 connection gets instead.

/** A close frame: status code and reason text (RFC 6455, section 7.4). */
export interface CloseSpec {
  readonly code: number;
  readonly reason: string;
}

/** Refusals, with what each dialect gets. v0 reasons are part of the contract. */
export const ERRORS = {
  KEY_TAKEN: { message: 'The key already exists', v0: { code: 1008, reason: 'The key already exists' } },
  KEY_UNKNOWN: { message: 'The key does not exist', v0: { code: 1008, reason: 'The key does not exist' } },
  KEY_FULL: { message: 'Too many joiners', v0: { code: 1008, reason: 'Too many joiners' } },
  NOT_JOINED: {
    message: 'Joinkey request has not been sent',
    v0: { code: 1008, reason: 'Joinkey request has not been sent' },
  },
  NOT_HOST: { message: 'Key request has not been sent', v0: { code: 1008, reason: 'Key request has not been sent' } },
  ROLE_SET: { message: 'Role already set', v0: { code: 1008, reason: 'Role already set' } },
  INVALID_KEY: { message: 'Invalid key', v0: { code: 1008, reason: 'Invalid key' } },
  KEY_FORBIDDEN: { message: 'The access token does not allow this key', v0: { code: 1008, reason: 'Key not allowed' } },
  ID_REQUIRED: { message: 'Several joiners or none: say which with "id"', v0: { code: 1008, reason: 'Id required' } },
  UNKNOWN_ID: { message: 'No joiner has this id', v0: { code: 1008, reason: 'Unknown id' } },
  NO_PENDING_OFFER: {
    message: 'There is no unanswered offer to answer',
    v0: { code: 1008, reason: 'No pending offer' },
  },
  TOO_MANY_OFFERS: {
    message: 'Too many offers on this key wait for an answer; try again once answered',
    v0: { code: 1008, reason: 'Too many pending offers' },
  },
  HOST_AWAY: {
    message: 'The host is away and may come back',
    v0: { code: 1008, reason: 'The peer is no longer available' },
  },
  JOINER_V0: {
    message: 'This joiner speaks v0 and cannot answer an offer',
    v0: { code: 1008, reason: 'Unsupported message format' },
  },
  UNSUPPORTED: { message: 'Unsupported message format', v0: { code: 1007, reason: 'Unsupported message format' } },
  // y-webrtc connections get no answer to a refusal (its server has none): these are counted and logged.
  TOO_MANY_TOPICS: { message: 'Too many topics on this connection', v0: { code: 1008, reason: 'Too many topics' } },
  TOPIC_FULL: { message: 'Too many subscribers to this topic', v0: { code: 1008, reason: 'Too many subscribers' } },
  NOT_SUBSCRIBED: { message: 'Not subscribed to this topic', v0: { code: 1008, reason: 'Not subscribed' } },
  PUBLICATION_TOO_BIG: { message: 'Publication too large', v0: { code: 1009, reason: 'Publication too large' } },
  // PeerJS connections get an ERROR message with this text (ID-TAKEN for ID_TAKEN), then a close.
  ID_TAKEN: { message: 'ID is taken', v0: { code: 1008, reason: 'ID is taken' } },
  INVALID_MESSAGE: { message: 'Invalid message', v0: { code: 1008, reason: 'Invalid message' } },
  /** A message for an id that is not connected found its mailbox full: its sender gets EXPIRE at once. */
  MAILBOX_FULL: { message: 'Too many messages wait for this peer', v0: { code: 1008, reason: 'Mailbox full' } },
  UNAVAILABLE: {
    message: 'The server cannot register keys right now; try again later',
    v0: { code: 1011, reason: 'Service unavailable' },
  },
} as const satisfies Record<string, { readonly message: string; readonly v0: CloseSpec }>;

/** A stable error code, as sent in v1 `{"error": {"code": ...}}`. */
export type ErrorCode = keyof typeof ERRORS;

/** Closes that are not refusals: transport and abuse violations, shutdown, takeover. */
export const CLOSES = {
  NOT_JSON: { code: 1003, reason: 'Server accepts only JSON' },
  PEER_GONE: { code: 1008, reason: 'The peer is no longer available' },
  RATE_LIMITED: { code: 1008, reason: 'Rate limit exceeded' },
  BYTE_RATE: { code: 1008, reason: 'Byte rate exceeded' },
  TOO_SMALL_PIECES: { code: 1008, reason: 'Message sent in too small pieces' },
  MESSAGE_TIMEOUT: { code: 1008, reason: 'Message not finished in time' },
  SLOW_CONSUMER: { code: 1008, reason: 'Slow consumer' },
  TOO_BIG: { code: 1009, reason: 'Frame too large' },
  SHUTDOWN: { code: 1001, reason: 'Server shutting down' },
  REPLACED: { code: 4001, reason: 'Replaced by a new connection' },
  BACKPLANE_LOST: { code: 1011, reason: 'The peer is no longer available' },
  INTERNAL_ERROR: { code: 1011, reason: 'Internal error' },
} as const satisfies Record<string, CloseSpec>;
