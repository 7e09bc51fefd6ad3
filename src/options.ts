// Server settings: one table that defines every tunable, its default, unit,
// CLI flag and environment variable. Everything else (option types, --help,
// --print-config, validation) is derived from it.

import { LOG_LEVELS } from './ops/log-level.js';
import { originPatternProblem } from './ops/origin-policy.js';
import { proxyEntryProblem } from './ops/trusted-proxies.js';

/** The kind of value a setting takes, and how its text form is parsed. */
export type SettingKind = 'integer' | 'string' | 'list' | 'boolean' | 'proxies';

interface SettingSpec<K extends SettingKind> {
  readonly kind: K;
  readonly flag: string;
  readonly env: string;
  readonly description: string;
  /** Smallest accepted value, for integers. */
  readonly min?: number;
  /** A secret: `--print-config` shows whether it is set, never its value. */
  readonly secret?: boolean;
  /** Checks beyond the kind: says what is wrong with a value (`name` names it), or `undefined`. */
  check?(value: never, name: string): string | undefined;
}

/** Smallest `--auth-secret`, bytes: HMAC-SHA256 wants a key as long as its output (RFC 7518, 3.2). */
export const MIN_AUTH_SECRET_BYTES = 32;

const ICE_URL = /^(stun|stuns|turn|turns):[^\s,]+$/;

/**
 * Every server setting. Defaults live in {@link DEFAULT_OPTIONS}; the CLI
 * reads flags and environment variables from this table.
 */
export const SETTINGS = {
  port: {
    kind: 'integer',
    flag: 'port',
    env: 'SIGVER_PORT',
    min: 0,
    description: 'TCP port to listen on (0 picks a free one)',
  },
  host: { kind: 'string', flag: 'host', env: 'SIGVER_HOST', description: 'interface to listen on' },
  maxFrameBytes: {
    kind: 'integer',
    flag: 'max-frame-bytes',
    env: 'SIGVER_MAX_FRAME_BYTES',
    min: 1,
    description: 'largest accepted frame payload, bytes (larger: close 1009)',
  },
  maxJoiners: {
    kind: 'integer',
    flag: 'max-joiners',
    env: 'SIGVER_MAX_JOINERS',
    min: 1,
    description: 'joiners per key',
  },
  maxPendingOffers: {
    kind: 'integer',
    flag: 'max-pending-offers',
    env: 'SIGVER_MAX_PENDING_OFFERS',
    min: 1,
    description: 'joiner offers waiting for an answer per key (past it: TOO_MANY_OFFERS, v0 close 1008)',
  },
  maxTopics: {
    kind: 'integer',
    flag: 'max-topics',
    env: 'SIGVER_MAX_TOPICS',
    min: 1,
    description: 'topics a y-webrtc connection may subscribe to',
  },
  maxTopicMembers: {
    kind: 'integer',
    flag: 'max-topic-members',
    env: 'SIGVER_MAX_TOPIC_MEMBERS',
    min: 1,
    description: 'subscribers of one y-webrtc topic on each server process',
  },
  maxPublishBytes: {
    kind: 'integer',
    flag: 'max-publish-bytes',
    env: 'SIGVER_MAX_PUBLISH_BYTES',
    min: 1,
    description: 'largest y-webrtc publish frame, bytes (larger: dropped)',
  },
  maxConnections: {
    kind: 'integer',
    flag: 'max-connections',
    env: 'SIGVER_MAX_CONNECTIONS',
    min: 1,
    description: 'open connections per server process (past it: HTTP 503)',
  },
  rateLimit: {
    kind: 'integer',
    flag: 'rate-limit',
    env: 'SIGVER_RATE_LIMIT',
    min: 1,
    description: 'messages per second per connection',
  },
  rateBurst: {
    kind: 'integer',
    flag: 'rate-burst',
    env: 'SIGVER_RATE_BURST',
    min: 1,
    description: 'burst allowance of the per-connection rate limit, messages',
  },
  byteRate: {
    kind: 'integer',
    flag: 'byte-rate',
    env: 'SIGVER_BYTE_RATE',
    min: 1,
    description: 'bytes per second per connection (past it and the burst: close 1008 "Byte rate exceeded")',
  },
  byteBurst: {
    kind: 'integer',
    flag: 'byte-burst',
    env: 'SIGVER_BYTE_BURST',
    min: 1,
    description: 'burst allowance of the per-connection byte rate, bytes',
  },
  messageTimeoutMs: {
    kind: 'integer',
    flag: 'message-timeout-ms',
    env: 'SIGVER_MESSAGE_TIMEOUT_MS',
    min: 1,
    description: 'time a message may take to arrive once begun, ms (longer: close 1008 "Message not finished in time")',
  },
  slowConsumerBytes: {
    kind: 'integer',
    flag: 'slow-consumer-bytes',
    env: 'SIGVER_SLOW_CONSUMER_BYTES',
    min: 1,
    description: 'unsent bytes a recipient may queue before it is closed 1008 "Slow consumer"',
  },
  heartbeatMs: {
    kind: 'integer',
    flag: 'heartbeat-ms',
    env: 'SIGVER_HEARTBEAT_MS',
    min: 1,
    description: 'heartbeat interval, ms: a connection silent for one is pinged, and dropped if silent for the next',
  },
  resumeGraceMs: {
    kind: 'integer',
    flag: 'resume-grace-ms',
    env: 'SIGVER_RESUME_GRACE_MS',
    min: 0,
    description: 'how long a dropped v1 host keeps its key, ms',
  },
  shutdownGraceMs: {
    kind: 'integer',
    flag: 'shutdown-grace-ms',
    env: 'SIGVER_SHUTDOWN_GRACE_MS',
    min: 0,
    description: 'how long shutdown waits for connections to close, ms',
  },
  logLevel: {
    kind: 'string',
    flag: 'log-level',
    env: 'SIGVER_LOG_LEVEL',
    description: `level of the command's JSON logs on stderr: ${LOG_LEVELS.join(', ')}`,
    check: (value: string, name: string) =>
      (LOG_LEVELS as readonly string[]).includes(value)
        ? undefined
        : `${name} must be one of ${LOG_LEVELS.join(', ')}, got "${value}"`,
  },
  metrics: {
    kind: 'boolean',
    flag: 'metrics',
    env: 'SIGVER_METRICS',
    description: 'serve Prometheus metrics at GET /metrics',
  },
  tlsCert: {
    kind: 'string',
    flag: 'tls-cert',
    env: 'SIGVER_TLS_CERT',
    description: 'certificate file (PEM); with --tls-key, serve wss:// and https://',
  },
  tlsKey: {
    kind: 'string',
    flag: 'tls-key',
    env: 'SIGVER_TLS_KEY',
    description: 'private key file (PEM) of --tls-cert',
  },
  tlsCa: {
    kind: 'string',
    flag: 'tls-ca',
    env: 'SIGVER_TLS_CA',
    description: 'intermediate or CA certificates file (PEM) sent along with --tls-cert',
  },
  allowOrigin: {
    kind: 'list',
    flag: 'allow-origin',
    env: 'SIGVER_ALLOW_ORIGIN',
    description:
      'browser origin allowed to connect, exact (https://app.example.com) or wildcard (https://*.example.com); repeatable; none: any origin (others: HTTP 403)',
    check: (value: readonly string[], name: string) => {
      for (const entry of value) {
        const problem = originPatternProblem(entry);
        if (problem !== undefined) return `${name}: ${problem}`;
      }
      return undefined;
    },
  },
  trustProxy: {
    kind: 'proxies',
    flag: 'trust-proxy',
    env: 'SIGVER_TRUST_PROXY',
    description:
      'behind reverse proxies: read the client address from X-Forwarded-For. Alone (or true): any peer is the proxy, the last entry is the client. With addresses or CIDR ranges (10.0.0.0/8, 127.0.0.1, fd00::/8; repeatable): only those peers, walking the header right to left past them',
    check: (value: boolean | readonly string[], name: string) => {
      if (typeof value === 'boolean') return undefined;
      for (const entry of value) {
        const problem = proxyEntryProblem(entry, name);
        if (problem !== undefined) return problem;
      }
      return undefined;
    },
  },
  maxConnectionsPerAddress: {
    kind: 'integer',
    flag: 'max-connections-per-address',
    env: 'SIGVER_MAX_CONNECTIONS_PER_ADDRESS',
    min: 0,
    description: 'open connections per client address, 0: unlimited (past it: HTTP 429)',
  },
  authSecret: {
    kind: 'string',
    flag: 'auth-secret',
    env: 'SIGVER_AUTH_SECRET',
    secret: true,
    description: `require an access token signed with this secret (HMAC-SHA256, at least ${MIN_AUTH_SECRET_BYTES} bytes; see sigver token); prefer the environment variable`,
    check: (value: string, name: string) =>
      Buffer.byteLength(value) >= MIN_AUTH_SECRET_BYTES
        ? undefined
        : `${name} must be at least ${MIN_AUTH_SECRET_BYTES} bytes long (openssl rand -base64 32 makes one)`,
  },
  turnSecret: {
    kind: 'string',
    flag: 'turn-secret',
    env: 'SIGVER_TURN_SECRET',
    secret: true,
    description: "TURN REST API secret (coturn's static-auth-secret): GET /ice-servers hands out credentials",
  },
  turnUrl: {
    kind: 'list',
    flag: 'turn-url',
    env: 'SIGVER_TURN_URL',
    description: 'STUN or TURN server URL listed by GET /ice-servers (turn:turn.example.com:3478); repeatable',
    check: (value: readonly string[], name: string) => {
      const bad = value.find((url) => !ICE_URL.test(url));
      return bad === undefined ? undefined : `${name}: "${bad}" is not a stun:, stuns:, turn: or turns: URL`;
    },
  },
  redis: {
    kind: 'string',
    flag: 'redis',
    env: 'SIGVER_REDIS_URL',
    secret: true,
    description: 'Redis URL (redis://HOST:PORT) shared by several processes; unset: one process, in memory',
  },
  peerjsPath: {
    kind: 'string',
    flag: 'peerjs-path',
    env: 'SIGVER_PEERJS_PATH',
    description:
      "PeerJS clients' `path`: their socket is {path}peerjs?key=, their id request GET {path}{key}/id (docs/PROTOCOL.md, PeerJS)",
    check: (value: string, name: string) =>
      /^\/([^/?#\s]+\/)*$/.test(value) ? undefined : `${name} must start and end with "/", got "${value}"`,
  },
  peerjsDiscovery: {
    kind: 'boolean',
    flag: 'peerjs-discovery',
    env: 'SIGVER_PEERJS_DISCOVERY',
    description: "serve GET {path}{key}/peers, the ids of a PeerJS realm (peer's allow_discovery)",
  },
  peerjsExpireMs: {
    kind: 'integer',
    flag: 'peerjs-expire-ms',
    env: 'SIGVER_PEERJS_EXPIRE_MS',
    min: 1,
    description: 'how long messages for a PeerJS id that is not connected wait before their senders get EXPIRE, ms',
  },
  turnTtlSeconds: {
    kind: 'integer',
    flag: 'turn-ttl',
    env: 'SIGVER_TURN_TTL',
    min: 1,
    description: 'lifetime of the TURN credentials of GET /ice-servers, s',
  },
} as const satisfies Record<string, SettingSpec<SettingKind>>;

/** The name of a server setting. */
export type SettingName = keyof typeof SETTINGS;

type ValueOf<K extends SettingKind> = K extends 'integer'
  ? number
  : K extends 'boolean'
    ? boolean
    : K extends 'list'
      ? readonly string[]
      : K extends 'proxies'
        ? boolean | readonly string[]
        : string;

/** Any setting value. */
export type SettingValue = number | string | boolean | readonly string[];

/** Resolved values of every setting. */
export type Settings = { readonly [N in SettingName]: ValueOf<(typeof SETTINGS)[N]['kind']> };

/** Defaults of every setting, as documented in docs/PROTOCOL.md. */
export const DEFAULT_SETTINGS: Settings = Object.freeze({
  port: 8000,
  host: '0.0.0.0',
  maxFrameBytes: 65_536,
  maxJoiners: 256,
  maxPendingOffers: 1_024,
  maxTopics: 64,
  maxTopicMembers: 256,
  maxPublishBytes: 32_768,
  maxConnections: 100_000,
  rateLimit: 50,
  rateBurst: 200,
  byteRate: 131_072,
  byteBurst: 1_048_576,
  messageTimeoutMs: 10_000,
  slowConsumerBytes: 1_048_576,
  heartbeatMs: 30_000,
  resumeGraceMs: 10_000,
  shutdownGraceMs: 10_000,
  logLevel: 'info',
  metrics: true,
  tlsCert: '',
  tlsKey: '',
  tlsCa: '',
  allowOrigin: [],
  trustProxy: false,
  maxConnectionsPerAddress: 0,
  authSecret: '',
  turnSecret: '',
  turnUrl: [],
  redis: '',
  peerjsPath: '/',
  peerjsDiscovery: false,
  peerjsExpireMs: 5_000,
  turnTtlSeconds: 86_400,
});

/**
 * Bad setting values, found while building a server or reading the command
 * line: one line per problem in `problems`, all of them in `message`.
 */
export class SettingError extends Error {
  readonly code = 'SIGVER_INVALID_SETTING';
  readonly problems: readonly string[];
  constructor(problems: string | readonly string[]) {
    const list = typeof problems === 'string' ? [problems] : [...problems];
    super(list.join('\n'));
    this.name = 'SettingError';
    this.problems = list;
  }
}

const SPECS = SETTINGS as Record<string, SettingSpec<SettingKind>>;

/** Whether a setting holds a secret, which `--print-config` must not show. */
export function isSecretSetting(name: SettingName): boolean {
  return SPECS[name]!.secret === true;
}

/** Whether `name` is a setting. */
export function isSettingName(name: string): name is SettingName {
  return Object.hasOwn(SETTINGS, name);
}

/**
 * Checks a partial set of settings and fills in defaults. Throws a
 * {@link SettingError} listing every bad field.
 */
export function resolveSettings(partial: Partial<Settings>): Settings {
  const out: Record<string, unknown> = { ...DEFAULT_SETTINGS };
  const problems: string[] = [];
  for (const [name, value] of Object.entries(partial)) {
    if (value === undefined) continue;
    if (!isSettingName(name)) {
      problems.push(`unknown setting "${name}"`);
      continue;
    }
    const problem = settingValueProblem(name, value, name);
    if (problem === undefined) out[name] = value;
    else problems.push(problem);
  }
  const settings = Object.freeze(out) as Settings;
  problems.push(...crossSettingProblems(settings));
  if (problems.length > 0) throw new SettingError(problems);
  return settings;
}

/**
 * Says what is wrong with `value` for setting `name`, or `undefined` when it
 * is valid. `source` names it in the message (`port`, `--port`, `SIGVER_PORT`).
 */
export function settingValueProblem(name: SettingName, value: unknown, source: string): string | undefined {
  const spec = SPECS[name]!;
  switch (spec.kind) {
    case 'integer':
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < (spec.min ?? 0)) {
        return `${source} must be an integer >= ${spec.min ?? 0}, got ${JSON.stringify(value)}`;
      }
      if (name === 'port' && value > 65_535) return `${source} must be at most 65535, got ${value}`;
      break;
    case 'string':
      if (typeof value !== 'string') return `${source} must be a string`;
      // An empty string is "unset", valid where that is the default (as --print-config shows it).
      if (value.length === 0) return DEFAULT_SETTINGS[name] === '' ? undefined : `${source} must be a non-empty string`;
      break;
    case 'boolean':
      if (typeof value !== 'boolean') return `${source} must be true or false`;
      break;
    case 'list':
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string'))
        return `${source} must be a list of strings`;
      break;
    case 'proxies':
      if (typeof value !== 'boolean' && (!Array.isArray(value) || value.some((v) => typeof v !== 'string')))
        return `${source} must be true, false or a list of addresses and CIDR ranges`;
      break;
  }
  return spec.check?.(value as never, source);
}

/** Problems between settings that are each valid alone: one line each, flags named. */
export function crossSettingProblems(settings: Settings): string[] {
  const problems: string[] = [];
  if ((settings.tlsCert === '') !== (settings.tlsKey === ''))
    problems.push('--tls-cert and --tls-key go together: set both or neither');
  if (settings.tlsCa !== '' && settings.tlsCert === '') problems.push('--tls-ca needs --tls-cert and --tls-key');
  const turnUrls = settings.turnUrl.filter((url) => url.startsWith('turn'));
  if (turnUrls.length > 0 && settings.turnSecret === '')
    problems.push('--turn-url with turn: or turns: URLs needs --turn-secret');
  if (settings.turnSecret !== '' && turnUrls.length === 0)
    problems.push('--turn-secret needs at least one turn: or turns: --turn-url');
  return problems;
}

/**
 * Parses the text form of a setting (from a flag or environment variable).
 * Throws a {@link SettingError} with a one-line message when it is not valid.
 */
export function parseSettingText(name: SettingName, text: string, source: string): SettingValue {
  const spec: SettingSpec<SettingKind> = SETTINGS[name];
  let value: SettingValue;
  switch (spec.kind) {
    case 'integer': {
      const trimmed = text.trim();
      if (!/^\d+$/.test(trimmed)) throw new SettingError(`${source} must be a whole number, got "${text}"`);
      value = Number(trimmed);
      break;
    }
    case 'boolean':
      if (/^(1|true|yes|on)$/i.test(text)) return true;
      if (/^(0|false|no|off)$/i.test(text)) return false;
      throw new SettingError(`${source} must be true or false, got "${text}"`);
    case 'list':
      value = listOf(text);
      break;
    case 'proxies':
      if (/^(1|true|yes|on)$/i.test(text)) return true;
      if (/^(0|false|no|off)$/i.test(text)) return false;
      value = listOf(text);
      break;
    case 'string':
      if (text.length === 0) throw new SettingError(`${source} must not be empty`);
      value = text;
      break;
  }
  const problem = settingValueProblem(name, value, source);
  if (problem !== undefined) throw new SettingError(problem);
  return value;
}

function listOf(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
