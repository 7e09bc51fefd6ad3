// Turns argv and the environment into settings, using the settings table
// for flag names, environment variables, parsing and --help.

import { parseArgs } from 'node:util';
import { DEFAULT_SETTINGS, SETTINGS, SettingError, parseSettingText, type SettingName, type Settings } from '../options.js';

/** What the command line asks for. */
export type Command =
  | { readonly kind: 'help' }
  | { readonly kind: 'version' }
  | { readonly kind: 'serve'; readonly settings: Partial<Settings> };

const SETTING_NAMES = Object.keys(SETTINGS) as SettingName[];

/**
 * Reads the command line and the environment. A flag wins over its
 * environment variable. Throws a {@link SettingError} with a one-line message.
 */
export function parseCommandLine(argv: readonly string[], env: NodeJS.ProcessEnv): Command {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {
    help: { type: 'boolean', short: 'h' },
    version: { type: 'boolean', short: 'v' },
  };
  for (const name of SETTING_NAMES) {
    const spec = SETTINGS[name];
    options[spec.flag] = { type: 'string' };
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: false, strict: true });
  } catch (error) {
    throw new SettingError(`${(error as Error).message.split('\n')[0]} (see sigver --help)`);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (values.help === true) return { kind: 'help' };
  if (values.version === true) return { kind: 'version' };

  const settings: Record<string, unknown> = {};
  for (const name of SETTING_NAMES) {
    const spec = SETTINGS[name];
    const flag = values[spec.flag];
    const fromEnv = env[spec.env];
    if (typeof flag === 'string') settings[name] = parseSettingText(name, flag, `--${spec.flag}`);
    else if (fromEnv !== undefined && fromEnv !== '') settings[name] = parseSettingText(name, fromEnv, spec.env);
  }
  return { kind: 'serve', settings: settings as Partial<Settings> };
}

/** The text of `sigver --help`, generated from the settings table. */
export function helpText(): string {
  const rows = SETTING_NAMES.map((name) => {
    const spec = SETTINGS[name];
    const flag = `  --${spec.flag} <value>`;
    return `${flag.padEnd(34)}${spec.description}\n${' '.repeat(34)}default ${JSON.stringify(DEFAULT_SETTINGS[name])}; env ${spec.env}`;
  });
  return [
    'Usage: sigver [options]',
    '',
    'WebRTC signaling server: peers swap SDP offers, answers and ICE candidates',
    'over WebSocket (protocol: docs/PROTOCOL.md).',
    '',
    'Options (a flag wins over its environment variable):',
    ...rows,
    `  ${'-h, --help'.padEnd(32)}show this help`,
    `  ${'-v, --version'.padEnd(32)}print the version`,
    '',
  ].join('\n');
}
