// Runs the `sigver` command as a child process for one test: waits for its
// output line by line (no sleeps) and kills it, if still running, when the
// test ends.

import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { withTimeout } from './waits.js';

/**
 * Longest wait for a line or the exit of a command: starting node with the
 * tsx loader alone takes seconds on a loaded 2-core machine.
 */
export const CLI_WAIT_MS = 30_000;

/** The repository root, where the command runs. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

/** What a runner needs of a test: a place to register its clean-up (a TestContext is one). */
export interface Cleanup {
  after(fn: () => unknown): void;
}

/** How a child process ended. */
export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A running `sigver` command. */
export class CliProcess {
  readonly stdoutLines: string[] = [];
  readonly stderrLines: string[] = [];
  /** Resolves once the process has exited and its output is read. */
  readonly exited: Promise<Exit>;
  private readonly waiters: (() => void)[] = [];
  /** Every process seen in this one's tree: killed with it when the test ends, even if orphaned by then. */
  private readonly seen = new Map<number, string>();

  constructor(readonly child: ChildProcess) {
    lines(child.stdout!, (line) => this.push(this.stdoutLines, line));
    lines(child.stderr!, (line) => this.push(this.stderrLines, line));
    this.exited = once(child, 'close').then(([code, signal]) => {
      this.wake();
      return { code: code as number | null, signal: signal as NodeJS.Signals | null };
    });
  }

  /** Waits for the first stdout line matching `match` (already printed or to come). */
  stdout(match: RegExp, ms = CLI_WAIT_MS): Promise<string> {
    return this.waitFor(this.stdoutLines, match, 'stdout', ms);
  }

  /** Waits for the first stderr line matching `match`. */
  stderr(match: RegExp, ms = CLI_WAIT_MS): Promise<string> {
    return this.waitFor(this.stderrLines, match, 'stderr', ms);
  }

  /** Waits for the `sigver listening on` line and returns the URL. */
  async listening(ms = CLI_WAIT_MS): Promise<string> {
    const line = await this.stdout(/^sigver listening on /, ms);
    return line.slice('sigver listening on '.length);
  }

  /** The processes this one started, and theirs, now (Linux). */
  tree(): number[] {
    const pids = descendants(this.child.pid!);
    for (const pid of pids) this.seen.set(pid, startTime(pid) ?? '');
    return pids;
  }

  /** Kills this process and every process seen in its tree that still runs (the same process, not a reused pid). */
  killTree(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.tree();
      this.child.kill('SIGKILL');
    }
    for (const [pid, started] of this.seen) {
      if (startTime(pid) === started) killIfAlive(pid);
    }
  }

  /** Waits for the process to end. */
  exit(ms = CLI_WAIT_MS): Promise<Exit> {
    return withTimeout(this.exited, 'the process to exit', ms);
  }

  private push(list: string[], line: string): void {
    list.push(line);
    this.wake();
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  private waitFor(list: string[], match: RegExp, what: string, ms: number): Promise<string> {
    let done = false;
    return withTimeout(
      new Promise<string>((resolve, reject) => {
        const look = (): void => {
          if (done) return;
          const line = list.find((l) => match.test(l));
          if (line !== undefined) {
            done = true;
            return resolve(line);
          }
          if (this.child.exitCode !== null || this.child.signalCode !== null) {
            done = true;
            return reject(new Error(`exited without ${what} line ${match}; stderr: ${this.stderrLines.join(' | ')}`));
          }
          this.waiters.push(look);
        };
        look();
      }),
      `${what} line ${match}`,
      ms,
    ).finally(() => {
      done = true;
    });
  }
}

/**
 * Starts `sigver ARGS` (through tsx, from the sources). The environment is
 * the test's, without SIGVER_* variables, plus `env`.
 */
export function runCli(t: Cleanup, args: readonly string[], env: Record<string, string> = {}): CliProcess {
  return runCommand(t, process.execPath, ['--import', 'tsx', MAIN, ...args], { env });
}

/**
 * Starts any command that runs sigver (`node server.js`, `npm start`, an
 * installed `sigver`), with the same environment rule as {@link runCli}.
 * When the test ends, the command and every process it started are killed.
 */
export function runCommand(
  t: Cleanup,
  file: string,
  args: readonly string[],
  { cwd = ROOT, env = {} }: { cwd?: string; env?: Record<string, string> } = {},
): CliProcess {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('SIGVER_')));
  const child = spawn(file, args, { cwd, env: { ...clean, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const cli = new CliProcess(child);
  t.after(async () => {
    cli.killTree();
    await cli.exited;
  });
  return cli;
}

/** How to run npm with `args`: the npm running this test (`npm_execpath` under `npm test`), else the one on PATH. */
export function npmCommand(args: readonly string[]): [string, string[]] {
  const cli = process.env.npm_execpath;
  return cli !== undefined && /npm-cli\.js$/.test(cli) ? [process.execPath, [cli, ...args]] : ['npm', [...args]];
}

/** The processes started by `pid`, and theirs, read from /proc (Linux). */
export function descendants(pid: number): number[] {
  let children: number[];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
  } catch {
    return [];
  }
  return children.flatMap((child) => [child, ...descendants(child)]);
}

/** When process `pid` started (field 22 of /proc/PID/stat), or `undefined` when it is gone. */
function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name, field 2, may hold spaces: count fields after its closing parenthesis.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Whether process `pid` still exists. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function killIfAlive(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

function lines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let buffer = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffer += chunk;
    let newline = buffer.indexOf('\n');
    while (newline >= 0) {
      onLine(buffer.slice(0, newline));
      buffer = buffer.slice(newline + 1);
      newline = buffer.indexOf('\n');
    }
  });
  stream.on('end', () => {
    if (buffer !== '') onLine(buffer);
  });
}
