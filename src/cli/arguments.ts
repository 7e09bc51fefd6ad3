// Turns argv, the environment and an optional JSON config file into
// settings, using the settings table for flag names, environment variables,
// parsing, --help and --print-config. Precedence: config file, then
// environment, then flags (the last one given wins).

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { closestName } from './closest-name.js';
import {
  DEFAULT_SETTINGS,
  SETTINGS,
  SettingError,
  crossSettingProblems,
  isSecretSetting,
  isSettingName,
  parseSettingText,
  settingValueProblem,
  type SettingName,
  type Settings,
} from '../options.js';

/** What the command line asks for. */
export type Command =
  | { readonly kind: 'help' }
  | { readonly kind: 'version' }
  | { readonly kind: 'serve'; readonly settings: Settings }
  | { readonly kind: 'print-config'; readonly settings: Settings };

/** Environment variable naming the config file when `--config` is not given. */
export const CONFIG_ENV = 'SIGVER_CONFIG';

const SETTING_NAMES = Object.keys(SETTINGS) as SettingName[];

type FlagOption = { type: 'string' | 'boolean'; short?: string; multiple?: boolean };

/**
 * Reads the command line, the environment and the config file they name.
 * Throws a {@link SettingError} listing every problem, one line each.
 * `readFile` reads the config file (injected for tests).
 */
export function parseCommandLine(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  readFile: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): Command {
  const options: Record<string, FlagOption> = {
    help: { type: 'boolean', short: 'h' },
    version: { type: 'boolean', short: 'v' },
    config: { type: 'string' },
    'print-config': { type: 'boolean' },
  };
  for (const name of SETTING_NAMES) {
    const spec = SETTINGS[name];
    if (spec.kind === 'boolean') {
      options[spec.flag] = { type: 'boolean' };
      options[`no-${spec.flag}`] = { type: 'boolean' };
    } else if (spec.kind === 'proxies') {
      // `--trust-proxy` alone means true; `--trust-proxy 10.0.0.0/8` (repeatable) a list.
      options[spec.flag] = { type: 'string', multiple: true };
      options[`no-${spec.flag}`] = { type: 'boolean' };
    } else {
      options[spec.flag] = { type: 'string', multiple: spec.kind === 'list' };
    }
  }
  const unknown = unknownLongOption(argv, options);
  if (unknown !== undefined) throw new SettingError(unknown);
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: withBareValues(argv), options, allowPositionals: false, strict: true });
  } catch (error) {
    throw new SettingError(`${(error as Error).message.split('\n')[0]} (see sigver --help)`);
  }
  const values = parsed.values as Record<string, string | boolean | string[] | undefined>;
  if (values.help === true) return { kind: 'help' };
  if (values.version === true) return { kind: 'version' };

  const problems: string[] = [];
  const merged: Record<string, unknown> = {};
  const configPath = typeof values.config === 'string' ? values.config : nonEmpty(env[CONFIG_ENV]);
  if (configPath !== undefined) Object.assign(merged, readConfigFile(configPath, readFile, problems));

  for (const name of SETTING_NAMES) {
    const spec = SETTINGS[name];
    const flag = `--${spec.flag}`;
    const value = values[spec.flag];
    const negated = values[`no-${spec.flag}`] === true;
    if (spec.kind === 'boolean' && (value === true || negated)) {
      if (value === true && negated) problems.push(`${flag} and --no-${spec.flag} contradict each other`);
      else merged[name] = value === true;
    } else if (spec.kind === 'proxies' && (Array.isArray(value) || negated)) {
      if (Array.isArray(value) && negated) problems.push(`${flag} and --no-${spec.flag} contradict each other`);
      else if (negated) merged[name] = false;
      else {
        collect(problems, () => {
          const parts = (value as string[]).map((text) => parseSettingText(name, text, flag));
          merged[name] = parts.includes(true) ? true : parts.flatMap((part) => (Array.isArray(part) ? part : []));
        });
      }
    } else if (spec.kind === 'list' && Array.isArray(value)) {
      collect(
        problems,
        () => (merged[name] = value.flatMap((text) => parseSettingText(name, text, flag) as readonly string[])),
      );
    } else if (typeof value === 'string') {
      collect(problems, () => (merged[name] = parseSettingText(name, value, flag)));
    } else {
      // The environment counts only where no flag is given: a flag wins over its variable.
      const text = nonEmpty(env[spec.env]);
      if (text !== undefined) collect(problems, () => (merged[name] = parseSettingText(name, text, spec.env)));
    }
  }

  const settings = Object.freeze({ ...DEFAULT_SETTINGS, ...merged }) as Settings;
  problems.push(...crossSettingProblems(settings));
  if (problems.length > 0) throw new SettingError(problems);
  return { kind: values['print-config'] === true ? 'print-config' : 'serve', settings };
}

/**
 * The command line with `=true` added to each flag of kind `proxies` given
 * without a value (`--trust-proxy` last, or followed by another flag), which
 * parseArgs would otherwise refuse for a string option.
 */
function withBareValues(argv: readonly string[]): string[] {
  const bare = new Set(
    SETTING_NAMES.filter((name) => SETTINGS[name].kind === 'proxies').map((name) => `--${SETTINGS[name].flag}`),
  );
  return argv.map((arg, i) => {
    const next = argv[i + 1];
    return bare.has(arg) && (next === undefined || next.startsWith('-')) ? `${arg}=true` : arg;
  });
}

/** `unknown option --prot: did you mean --port? (see sigver --help)` for the first unknown `--flag`, if any. */
function unknownLongOption(argv: readonly string[], options: Record<string, FlagOption>): string | undefined {
  const { tokens } = parseArgs({ args: [...argv], options, allowPositionals: true, strict: false, tokens: true });
  const token = tokens.find(
    (t) => t.kind === 'option' && t.rawName.startsWith('--') && !Object.hasOwn(options, t.name),
  );
  if (token?.kind !== 'option') return undefined;
  const suggestion = closestName(token.name, Object.keys(options));
  const hint = suggestion === undefined ? '' : `: did you mean --${suggestion}?`;
  return `unknown option ${token.rawName}${hint} (see sigver --help)`;
}

/** Reads a config file: a JSON object whose fields are setting names, as `--print-config` prints them. */
function readConfigFile(path: string, readFile: (path: string) => string, problems: string[]): Record<string, unknown> {
  let text: string;
  try {
    text = readFile(path);
  } catch (error) {
    problems.push(
      `config file ${path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    );
    return {};
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    problems.push(`config file ${path}: not valid JSON (${(error as Error).message})`);
    return {};
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.push(`config file ${path}: must be a JSON object of settings, like {"port": 8000}`);
    return {};
  }
  const out: Record<string, unknown> = {};
  for (const [field, fieldValue] of Object.entries(value)) {
    if (!isSettingName(field)) {
      problems.push(`config file ${path}: unknown setting "${field}" (names as in sigver --print-config)`);
      continue;
    }
    const problem = settingValueProblem(field, fieldValue, `config file ${path}: ${field}`);
    if (problem === undefined) out[field] = fieldValue;
    else problems.push(problem);
  }
  return out;
}

function collect(problems: string[], parse: () => void): void {
  try {
    parse();
  } catch (error) {
    if (!(error instanceof SettingError)) throw error;
    problems.push(...error.problems);
  }
}

function nonEmpty(text: string | undefined): string | undefined {
  return text === undefined || text === '' ? undefined : text;
}

/** The JSON of `sigver --print-config`: every setting, secrets shown only as set or not. */
export function printConfig(settings: Settings): string {
  const out: Record<string, unknown> = {};
  for (const name of SETTING_NAMES) {
    const value = settings[name];
    out[name] = isSecretSetting(name) && value !== '' ? '<redacted>' : value;
  }
  return `${JSON.stringify(out, null, 2)}\n`;
}

/** Options of the command that are not settings, as `--help` and docs/CONFIGURATION.md list them. */
export const OTHER_OPTIONS: readonly { readonly flag: string; readonly description: string }[] = [
  {
    flag: '--config <file>',
    description: `JSON config file of settings, named as --print-config prints them; env ${CONFIG_ENV}`,
  },
  { flag: '--print-config', description: 'print the merged settings as JSON and exit' },
  { flag: '-h, --help', description: 'show this help' },
  { flag: '-v, --version', description: 'print the version' },
];

/** Every setting's name, its flag as usage shows it (`--port <value>`, `--[no-]metrics`), its variable, default and meaning. */
export function settingRows(): {
  name: SettingName;
  flag: string;
  env: string;
  default: string;
  description: string;
}[] {
  return SETTING_NAMES.map((name) => {
    const spec = SETTINGS[name];
    const flag =
      spec.kind === 'boolean'
        ? `--[no-]${spec.flag}`
        : spec.kind === 'proxies'
          ? `--[no-]${spec.flag} [<value>...]`
          : `--${spec.flag} <value>${spec.kind === 'list' ? '...' : ''}`;
    return { name, flag, env: spec.env, default: defaultText(name), description: spec.description };
  });
}

/** The text of `sigver --help`, generated from the settings table. */
export function helpText(): string {
  const width = 38;
  const rows = settingRows().map((row) => {
    const flag = `  ${row.flag}`;
    const head = flag.length < width ? flag.padEnd(width) : `${flag}\n${' '.repeat(width)}`;
    return `${head}${row.description}\n${' '.repeat(width)}default ${row.default}; env ${row.env}`;
  });
  return [
    'Usage: sigver [options]',
    '       sigver token --secret <secret> [--ttl <duration>] [--key <key>]',
    '',
    'WebRTC signaling server: peers swap SDP offers, answers and ICE candidates',
    'over WebSocket (protocol: docs/PROTOCOL.md). `sigver token` mints an access',
    'token for --auth-secret (sigver token --help).',
    '',
    'Settings (a flag wins over its environment variable, which wins over the',
    'config file; a list given later replaces an earlier one; lists in',
    'environment variables are comma-separated):',
    ...rows,
    '',
    'Other options:',
    ...OTHER_OPTIONS.map(({ flag, description }) => `  ${flag.padEnd(width - 2)}${description}`),
    '',
  ].join('\n');
}

function defaultText(name: SettingName): string {
  const value: unknown = DEFAULT_SETTINGS[name];
  if (value === undefined || value === '') return 'unset';
  if (Array.isArray(value) && value.length === 0) return 'none';
  return JSON.stringify(value);
}
