// Server settings: one table that defines every tunable, its default, unit,
// CLI flag and environment variable. Everything else (option types, --help,
// --print-config, validation) is derived from it.

/** The kind of value a setting takes, and how its text form is parsed. */
export type SettingKind = 'integer' | 'string' | 'list' | 'boolean';

interface SettingSpec<K extends SettingKind> {
  readonly kind: K;
  readonly flag: string;
  readonly env: string;
  readonly description: string;
  /** Smallest accepted value, for integers. */
  readonly min?: number;
  /** The setting has no default: it is absent unless given. */
  readonly optional?: true;
}

/**
 * Every server setting. Defaults live in {@link DEFAULT_OPTIONS}; the CLI
 * reads flags and environment variables from this table.
 */
export const SETTINGS = {
  port: { kind: 'integer', flag: 'port', env: 'SIGVER_PORT', min: 0, description: 'TCP port to listen on (0 picks a free one)' },
  host: { kind: 'string', flag: 'host', env: 'SIGVER_HOST', description: 'interface to listen on' },
  maxFrameBytes: { kind: 'integer', flag: 'max-frame-bytes', env: 'SIGVER_MAX_FRAME_BYTES', min: 1, description: 'largest accepted frame payload, bytes (larger: close 1009)' },
  maxJoiners: { kind: 'integer', flag: 'max-joiners', env: 'SIGVER_MAX_JOINERS', min: 1, description: 'joiners per key' },
  maxConnections: { kind: 'integer', flag: 'max-connections', env: 'SIGVER_MAX_CONNECTIONS', min: 1, description: 'open connections per server process (past it: HTTP 503)' },
  rateLimit: { kind: 'integer', flag: 'rate-limit', env: 'SIGVER_RATE_LIMIT', min: 1, description: 'messages per second per connection' },
  rateBurst: { kind: 'integer', flag: 'rate-burst', env: 'SIGVER_RATE_BURST', min: 1, description: 'burst allowance of the per-connection rate limit, messages' },
  slowConsumerBytes: { kind: 'integer', flag: 'slow-consumer-bytes', env: 'SIGVER_SLOW_CONSUMER_BYTES', min: 1, description: 'unsent bytes a recipient may queue before it is closed 1008 "Slow consumer"' },
  heartbeatMs: { kind: 'integer', flag: 'heartbeat-ms', env: 'SIGVER_HEARTBEAT_MS', min: 1, description: 'interval between WebSocket pings, ms' },
  resumeGraceMs: { kind: 'integer', flag: 'resume-grace-ms', env: 'SIGVER_RESUME_GRACE_MS', min: 0, description: 'how long a dropped v1 host keeps its key, ms' },
  shutdownGraceMs: { kind: 'integer', flag: 'shutdown-grace-ms', env: 'SIGVER_SHUTDOWN_GRACE_MS', min: 0, description: 'how long shutdown waits for connections to close, ms' },
  redis: { kind: 'string', flag: 'redis', env: 'SIGVER_REDIS_URL', optional: true, description: 'Redis URL (redis://HOST:PORT) shared by several processes; unset: one process, in memory' },
} as const satisfies Record<string, SettingSpec<SettingKind>>;

/** The name of a server setting. */
export type SettingName = keyof typeof SETTINGS;

type ValueOf<K extends SettingKind> = K extends 'integer'
  ? number
  : K extends 'boolean'
    ? boolean
    : K extends 'list'
      ? readonly string[]
      : string;

/** Any setting value. */
export type SettingValue = number | string | boolean | readonly string[];

/** The settings that have no default. */
type OptionalSettingName = {
  [N in SettingName]: (typeof SETTINGS)[N] extends { readonly optional: true } ? N : never;
}[SettingName];

/** Resolved values of every setting (those with no default may be absent). */
export type Settings = {
  readonly [N in Exclude<SettingName, OptionalSettingName>]: ValueOf<(typeof SETTINGS)[N]['kind']>;
} & { readonly [N in OptionalSettingName]?: ValueOf<(typeof SETTINGS)[N]['kind']> };

/** Defaults of every setting, as documented in docs/PROTOCOL.md. */
export const DEFAULT_SETTINGS: Settings = Object.freeze({
  port: 8000,
  host: '0.0.0.0',
  maxFrameBytes: 65_536,
  maxJoiners: 256,
  maxConnections: 100_000,
  rateLimit: 50,
  rateBurst: 200,
  slowConsumerBytes: 1_048_576,
  heartbeatMs: 30_000,
  resumeGraceMs: 10_000,
  shutdownGraceMs: 10_000,
});

/** A bad setting value, found while building a server or parsing the CLI. */
export class SettingError extends Error {
  readonly code = 'SIGVER_INVALID_SETTING';
  constructor(message: string) {
    super(message);
    this.name = 'SettingError';
  }
}

/**
 * Checks a partial set of settings and fills in defaults. Throws a
 * {@link SettingError} naming the first bad field.
 */
export function resolveSettings(partial: Partial<Settings>): Settings {
  const out: Record<string, unknown> = { ...DEFAULT_SETTINGS };
  for (const [name, value] of Object.entries(partial)) {
    if (value === undefined) continue;
    const spec = (SETTINGS as Record<string, SettingSpec<SettingKind>>)[name];
    if (spec === undefined) throw new SettingError(`unknown setting "${name}"`);
    checkValue(name, spec, value);
    out[name] = value;
  }
  return Object.freeze(out) as Settings;
}

function checkValue(name: string, spec: SettingSpec<SettingKind>, value: unknown): void {
  switch (spec.kind) {
    case 'integer':
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < (spec.min ?? 0)) {
        throw new SettingError(`${name} must be an integer >= ${spec.min ?? 0}, got ${JSON.stringify(value)}`);
      }
      if (name === 'port' && value > 65_535) throw new SettingError(`port must be at most 65535, got ${value}`);
      return;
    case 'string':
      if (typeof value !== 'string' || value.length === 0) throw new SettingError(`${name} must be a non-empty string`);
      return;
    case 'boolean':
      if (typeof value !== 'boolean') throw new SettingError(`${name} must be true or false`);
      return;
    case 'list':
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
        throw new SettingError(`${name} must be a list of strings`);
      }
      return;
  }
}

/**
 * Parses the text form of a setting (from a flag or environment variable).
 * Throws a {@link SettingError} with a one-line message when it is not valid.
 */
export function parseSettingText(name: SettingName, text: string, source: string): SettingValue {
  const spec: SettingSpec<SettingKind> = SETTINGS[name];
  switch (spec.kind) {
    case 'integer': {
      const trimmed = text.trim();
      if (!/^\d+$/.test(trimmed)) throw new SettingError(`${source} must be a whole number, got "${text}"`);
      const value = Number(trimmed);
      checkValue(source, spec, value);
      return value;
    }
    case 'boolean':
      if (/^(1|true|yes|on)$/i.test(text)) return true;
      if (/^(0|false|no|off)$/i.test(text)) return false;
      throw new SettingError(`${source} must be true or false, got "${text}"`);
    case 'list':
      return text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
    case 'string':
      if (text.length === 0) throw new SettingError(`${source} must not be empty`);
      return text;
  }
}
