// The command line of `npm run bench`: workloads, sizes, durations, modes.
import { parseArgs } from 'node:util';
import { SEPARATE_WORKLOADS } from './separate-workloads.js';

/** Workloads the driver runs itself, against Sigver and the forwarder, in this order. */
export const DRIVER_WORKLOADS = [
  'v1-saturation',
  'v1-rate',
  'v0-saturation',
  'v0-rate',
  'fan-in',
  'v1-cluster',
  'idle',
  'idle-max',
] as const;
export type DriverWorkloadId = (typeof DRIVER_WORKLOADS)[number];

/** Every workload `--only` accepts: the driver's, then those with servers of their own. */
export const WORKLOADS: readonly string[] = [...DRIVER_WORKLOADS, ...SEPARATE_WORKLOADS.map((w) => w.id)];

/** The handshake workloads (the servers stay up across them). */
export const HANDSHAKE_WORKLOADS = [
  'v1-saturation',
  'v1-rate',
  'v0-saturation',
  'v0-rate',
  'fan-in',
  'v1-cluster',
] as const satisfies readonly DriverWorkloadId[];

export const HELP = `Usage: npm run bench -- [options]

Runs each workload against Sigver (dist/, built first, at its default
settings) and the raw-ws forwarder (bench/raw-forwarder.ts), alternating
short bursts, and prints a table of figures with forwarder ratios. Exits
non-zero on any failed handshake or dropped idle connection.

  --pairs N            concurrent pairs at saturation (default 200)
  --rate N             handshakes per second in the fixed-rate phase (default 300)
  --burst-ms N         length of one saturation burst, ms (default 3000)
  --rate-burst-ms N    length of one fixed-rate burst, ms (default 4000)
  --rounds N           bursts per target, v1 workloads (default 4)
  --v0-rounds N        bursts per target, v0 workloads (default 2)
  --warmup-ms N        unmeasured warm-up per target, ms (default 2000)
  --fan-in N           joiners of the one host in the fan-in workload (default 256)
  --fan-in-rounds N    fan-in bursts per target (default 3)
  --idle N             idle connections for RSS per connection (default 10000)
  --idle-rounds N      fresh-process idle measurements per target (default 3)
  --idle-max N         idle connections to hold with no error (default 19000)
  --hold-ms N          how long to hold them, ms (default 3000)
  --settle-ms N        wait before reading RSS, ms (default 500)
  --only LIST          comma-separated workloads (default: all):
                       ${WORKLOADS.join(', ')}
                       v1-cluster: the v1 fixed-rate handshake with hosts on
                       one Sigver process and joiners on another, both --redis
                       to a private redis-server started on a free loopback
                       port (needs redis-server on PATH; a default run leaves
                       it out, with a note, where it cannot run), alternating
                       with the single process and the forwarder
${SEPARATE_WORKLOADS.map((w) => wrap(`${w.id}: ${w.description}`, 23, 78)).join('\n')}
  --verify MODE        parse and check frames: none, first (default: the first
                       session of each burst), all
  --sigver-args "..."  extra flags for every Sigver process (split on spaces),
                       e.g. --sigver-args="--log-level warn" (with =, as the value
                       starts with a dash); default: none, Sigver at its defaults
  --profile DIR        every Sigver process writes a V8 CPU profile (.cpuprofile)
                       into DIR when it exits (node --cpu-prof)
  --json               print the results as JSON instead of the table
  --strict             also exit non-zero when a ratio target is missed
  --no-build           do not run "npm run build" first
  --sigver-cmd "..."   start the subject with this command instead of
                       dist/cli/main.js (split on spaces; it must print
                       "listening on ws://HOST:PORT")
  --aa                 A/A check: the forwarder against itself (noise floor)
  --max-seconds N      abort the whole run after N seconds (default 290)
  -h, --help           show this help
`;

export interface Options {
  readonly pairs: number;
  readonly rate: number;
  readonly burstMs: number;
  readonly rateBurstMs: number;
  readonly rounds: number;
  readonly v0Rounds: number;
  readonly warmupMs: number;
  readonly fanIn: number;
  readonly fanInRounds: number;
  readonly idle: number;
  readonly idleRounds: number;
  readonly idleMax: number;
  readonly holdMs: number;
  readonly settleMs: number;
  /** The workloads to run; the driver may leave out one that cannot run here. */
  readonly only: Set<string>;
  /** --only was given: a workload that cannot run is an error, not a note. */
  readonly explicitOnly: boolean;
  readonly verify: 'none' | 'first' | 'all';
  readonly json: boolean;
  readonly strict: boolean;
  readonly build: boolean;
  readonly sigverCmd: readonly string[] | null;
  /** Extra flags for every Sigver process; empty: Sigver at its defaults. */
  readonly sigverArgs: readonly string[];
  readonly aa: boolean;
  readonly maxSeconds: number;
  /** Where each Sigver process writes a CPU profile; null: none. */
  readonly profileDir: string | null;
}

/** Reads the command line; null when it asks for help. Throws on a bad option. */
export function parseOptions(argv: readonly string[]): Options | null {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      pairs: { type: 'string', default: '200' },
      rate: { type: 'string', default: '300' },
      'burst-ms': { type: 'string', default: '3000' },
      'rate-burst-ms': { type: 'string', default: '4000' },
      rounds: { type: 'string', default: '4' },
      'v0-rounds': { type: 'string', default: '2' },
      'warmup-ms': { type: 'string', default: '2000' },
      'fan-in': { type: 'string', default: '256' },
      'fan-in-rounds': { type: 'string', default: '3' },
      idle: { type: 'string', default: '10000' },
      'idle-rounds': { type: 'string', default: '3' },
      'idle-max': { type: 'string', default: '19000' },
      'hold-ms': { type: 'string', default: '3000' },
      'settle-ms': { type: 'string', default: '500' },
      only: { type: 'string' },
      verify: { type: 'string', default: 'first' },
      json: { type: 'boolean', default: false },
      strict: { type: 'boolean', default: false },
      'no-build': { type: 'boolean', default: false },
      'sigver-cmd': { type: 'string' },
      'sigver-args': { type: 'string', default: '' },
      aa: { type: 'boolean', default: false },
      profile: { type: 'string' },
      'max-seconds': { type: 'string', default: '290' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) return null;
  const int = (name: string, text: string, min: number): number => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < min) throw new Error(`--${name} must be an integer >= ${min}, got ${text}`);
    return value;
  };
  const verify = values.verify;
  if (verify !== 'none' && verify !== 'first' && verify !== 'all')
    throw new Error(`--verify must be none, first or all, got ${verify}`);
  const sigverCmd = words(values['sigver-cmd'] ?? '');
  return {
    explicitOnly: values.only !== undefined,
    pairs: int('pairs', values.pairs, 1),
    rate: int('rate', values.rate, 1),
    burstMs: int('burst-ms', values['burst-ms'], 100),
    rateBurstMs: int('rate-burst-ms', values['rate-burst-ms'], 100),
    rounds: int('rounds', values.rounds, 1),
    v0Rounds: int('v0-rounds', values['v0-rounds'], 1),
    warmupMs: int('warmup-ms', values['warmup-ms'], 0),
    fanIn: int('fan-in', values['fan-in'], 1),
    fanInRounds: int('fan-in-rounds', values['fan-in-rounds'], 1),
    idle: int('idle', values.idle, 2),
    idleRounds: int('idle-rounds', values['idle-rounds'], 1),
    idleMax: int('idle-max', values['idle-max'], 1),
    holdMs: int('hold-ms', values['hold-ms'], 0),
    settleMs: int('settle-ms', values['settle-ms'], 0),
    only: workloadSet(values.only),
    verify,
    json: values.json,
    strict: values.strict,
    build: !values['no-build'],
    sigverCmd: sigverCmd.length > 0 ? sigverCmd : null,
    sigverArgs: words(values['sigver-args']),
    aa: values.aa,
    maxSeconds: int('max-seconds', values['max-seconds'], 10),
    profileDir: values.profile ?? null,
  };
}

/** The workloads named by --only (all when absent); throws on an unknown name. */
function workloadSet(only: string | undefined): Set<string> {
  if (only === undefined) return new Set(WORKLOADS);
  const set = new Set<string>();
  for (const name of words(only.replaceAll(',', ' '))) {
    if (!WORKLOADS.includes(name)) throw new Error(`unknown workload ${name}; known: ${WORKLOADS.join(', ')}`);
    set.add(name);
  }
  return set;
}

/** `text` in lines of at most `width` columns, each indented by `indent`. */
function wrap(text: string, indent: number, width: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of words(text)) {
    if (line.length > 0 && indent + line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line.length === 0 ? word : `${line} ${word}`;
  }
  lines.push(line);
  return lines.map((l) => `${' '.repeat(indent)}${l}`).join('\n');
}

function words(text: string): string[] {
  return text.split(' ').filter((s) => s.length > 0);
}
