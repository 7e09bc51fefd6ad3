// `sigver token`: mints an access token for a server run with --auth-secret.

import { parseArgs } from 'node:util';
import { MIN_AUTH_SECRET_BYTES, SETTINGS, SettingError } from '../options.js';
import { normalizeKey } from '../protocol/index.js';

/** What `sigver token ...` asks for. */
export type TokenCommand =
  | { readonly kind: 'help' }
  | { readonly kind: 'mint'; readonly secret: string; readonly ttlSeconds: number; readonly key: string | undefined };

const DEFAULT_TTL = '1h';
const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3_600, d: 86_400 };

/**
 * Parses a duration: whole seconds (`90`) or a number with a unit s, m, h
 * or d (`90s`, `15m`, `1h`, `7d`). Returns seconds, or `undefined`.
 */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+)([smhd]?)$/.exec(text.trim());
  if (match === null) return undefined;
  const seconds = Number(match[1]) * (UNIT_SECONDS[match[2] || 's'] ?? 1);
  return seconds > 0 && Number.isSafeInteger(seconds) ? seconds : undefined;
}

/** Reads the arguments after `sigver token`. Throws a {@link SettingError} listing every problem. */
export function parseTokenCommand(argv: readonly string[], env: NodeJS.ProcessEnv): TokenCommand {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: [...argv],
      options: {
        secret: { type: 'string' },
        ttl: { type: 'string' },
        key: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: false,
      strict: true,
    }).values;
  } catch (error) {
    throw new SettingError(`${(error as Error).message.split('\n')[0]} (see sigver token --help)`);
  }
  if (values.help === true) return { kind: 'help' };
  const problems: string[] = [];
  const secret = typeof values.secret === 'string' ? values.secret : (env[SETTINGS.authSecret.env] ?? '');
  if (secret === '') problems.push(`--secret is required (or set ${SETTINGS.authSecret.env})`);
  else if (Buffer.byteLength(secret) < MIN_AUTH_SECRET_BYTES)
    problems.push(`--secret must be at least ${MIN_AUTH_SECRET_BYTES} bytes long`);
  const ttlText = typeof values.ttl === 'string' ? values.ttl : DEFAULT_TTL;
  const ttlSeconds = parseDuration(ttlText);
  if (ttlSeconds === undefined) problems.push(`--ttl must be a duration like 90s, 15m, 1h or 7d, got "${ttlText}"`);
  let key: string | undefined;
  if (typeof values.key === 'string') {
    key = normalizeKey(values.key);
    if (key === undefined) problems.push('--key must be a valid key (1 to 256 characters)');
  }
  if (problems.length > 0) throw new SettingError(problems);
  return { kind: 'mint', secret, ttlSeconds: ttlSeconds!, key };
}

/** The text of `sigver token --help`. */
export function tokenHelpText(): string {
  return [
    'Usage: sigver token --secret <secret> [--ttl <duration>] [--key <key>]',
    '',
    'Prints an access token for a server run with --auth-secret: a JWT signed',
    'with HMAC-SHA256 (HS256) that expires, and may allow one key only.',
    '',
    `  --secret <secret>   the server's --auth-secret (default: $${SETTINGS.authSecret.env})`,
    `  --ttl <duration>    lifetime: 90s, 15m, 1h, 7d or seconds (default ${DEFAULT_TTL})`,
    '  --key <key>         the only key the token may host or join (default: any)',
    '  -h, --help          show this help',
    '',
  ].join('\n');
}
