// `npm run bench`: measures Sigver, at its default settings, against the
// raw-ws forwarder in one run, alternating short bursts between them so that
// machine drift cancels out, and prints each figure beside the forwarder's
// with their ratio.
//
// Everything runs on loopback: the servers and the load generator are
// separate processes, all ended on exit. See docs/PERFORMANCE.md.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench, type Targets } from './driver.js';
import { LoadGenProcess } from './load-gen-client.js';
import { HELP, parseOptions, type Options } from './options.js';
import { report } from './report.js';
import { SEPARATE_WORKLOADS, type SeparateOutcome } from './separate-workloads.js';
import { killAllChildren } from './server-process.js';
import {
  buildForwarder,
  commandTarget,
  forwarderTarget,
  profileSigverInto,
  sigverClusterTarget,
  sigverTarget,
} from './targets.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Exit codes besides the report's. */
const EXIT = { usage: 2, aborted: 1, timedOut: 3 } as const;

async function main(): Promise<number> {
  const options = readOptions(process.argv.slice(2));
  if (typeof options === 'number') return options;
  armWatchdog(options);
  const problem = checkMachine(options) ?? leaveOutWhatCannotRun(options);
  if (problem !== null) return fail(problem, EXIT.usage);
  if (!buildSigver(options)) return fail('npm run build failed', EXIT.usage);
  if (options.profileDir !== null) {
    mkdirSync(options.profileDir, { recursive: true });
    profileSigverInto(resolve(options.profileDir));
  }

  const targets = await chooseTargets(options);
  const loadGen = await LoadGenProcess.start();
  const bench = new Bench(options, loadGen, targets);
  const separate = new Map<string, SeparateOutcome>();
  try {
    await bench.handshakePhase();
    await bench.idlePhase();
    await runSeparateWorkloads(bench, separate);
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error), EXIT.aborted);
  } finally {
    bench.progress.done();
    await bench.stopAll();
    await loadGen.stop();
  }
  return report({
    bench,
    subject: targets.subject.name,
    baseline: targets.baseline.name,
    cluster: targets.cluster?.name ?? null,
    elapsedS: bench.progress.elapsedS(),
    separate,
  });
}

/** The options, or an exit code (after printing the help or the error). */
function readOptions(argv: readonly string[]): Options | number {
  try {
    const options = parseOptions(argv);
    if (options !== null) return options;
    process.stdout.write(HELP);
    return 0;
  } catch (error) {
    return fail((error as Error).message, EXIT.usage);
  }
}

/** Ends the whole run, children included, after --max-seconds. */
function armWatchdog(options: Options): void {
  const watchdog = setTimeout(() => {
    process.stderr.write(`\nbench: aborted after --max-seconds ${options.maxSeconds}\n`);
    killAllChildren();
    process.exit(EXIT.timedOut);
  }, options.maxSeconds * 1000);
  watchdog.unref();
}

/** Why this machine cannot run the workloads asked for, or null. */
function checkMachine(options: Options): string | null {
  const limit = openFileLimit();
  if (options.only.has('idle-max') && options.idleMax + 200 > limit)
    return `--idle-max ${options.idleMax} needs an open-file limit above ${options.idleMax + 200}; this one is ${limit}`;
  return null;
}

/** Open-file soft limit of this process (the children inherit it). */
function openFileLimit(): number {
  try {
    const match = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'latin1'));
    return match?.[1] === undefined ? Number.POSITIVE_INFINITY : Number(match[1]);
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/**
 * Drops, with a note, the workloads a default run cannot do here (no
 * redis-server; another subject than the built Sigver). With --only that is
 * an error instead, returned.
 */
function leaveOutWhatCannotRun(options: Options): string | null {
  const customSubject = options.aa || options.sigverCmd !== null;
  const why = new Map<string, string>();
  if (options.only.has('v1-cluster')) {
    if (customSubject) why.set('v1-cluster', 'it runs the built Sigver only (not with --aa or --sigver-cmd)');
    else if (spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).error !== undefined)
      why.set('v1-cluster', 'redis-server is not installed');
  }
  for (const workload of SEPARATE_WORKLOADS) {
    if (options.only.has(workload.id) && customSubject)
      why.set(workload.id, 'it runs the built Sigver only (not with --aa or --sigver-cmd)');
  }
  for (const [workload, reason] of why) {
    if (options.explicitOnly) return `cannot run ${workload}: ${reason}`;
    process.stderr.write(`bench: leaving out ${workload}: ${reason}\n`);
    options.only.delete(workload);
  }
  return null;
}

/** Builds dist/ unless told not to, or unless the subject is not the built Sigver. */
function buildSigver(options: Options): boolean {
  if (!options.build || options.aa || options.sigverCmd !== null) return true;
  return spawnSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: ['ignore', 2, 2] }).status === 0;
}

/** Sigver (or --sigver-cmd, or the forwarder under --aa) as the subject; the forwarder as the baseline. */
async function chooseTargets(options: Options): Promise<Targets> {
  const forwarderScript = await buildForwarder(ROOT);
  const baseline = forwarderTarget(ROOT, forwarderScript, options.aa ? 'forwarder-b' : 'forwarder');
  if (options.aa) return { subject: forwarderTarget(ROOT, forwarderScript, 'forwarder-a'), baseline, cluster: null };
  if (options.sigverCmd !== null)
    return { subject: commandTarget(ROOT, 'subject', options.sigverCmd), baseline, cluster: null };
  const settings = { maxJoiners: Math.max(256, options.fanIn), extraArgs: options.sigverArgs };
  return { subject: sigverTarget(ROOT, settings), baseline, cluster: sigverClusterTarget(ROOT, settings) };
}

/** The workloads with servers of their own, one after the other. */
async function runSeparateWorkloads(bench: Bench, into: Map<string, SeparateOutcome>): Promise<void> {
  const context = {
    root: ROOT,
    sigverArgs: bench.options.sigverArgs,
    progress: (text: string) => bench.progress.update(text),
  };
  for (const workload of SEPARATE_WORKLOADS) {
    if (bench.options.only.has(workload.id)) into.set(workload.id, await workload.run(context));
  }
}

function fail(message: string, code: number): number {
  process.stderr.write(`bench: ${message}\n`);
  return code;
}

process.on('exit', killAllChildren);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    process.stderr.write(`\nbench: ${signal}, stopping\n`);
    killAllChildren();
    process.exit(130);
  });
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    killAllChildren();
    process.exitCode = 1;
  },
);
