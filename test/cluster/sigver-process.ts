// Sigver as a real child process (`node --import tsx src/cli/main.ts`), for
// tests that need a process to die or exit: started on a free port, awaited
// through its "sigver listening on" line, and killed when the test ends.

import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { withTimeout } from '../support/waits.js';
import type { Cleanup } from './redis-server.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** How a child process ended. */
export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A running Sigver process. */
export interface SigverProcess {
  readonly child: ChildProcess;
  /** `ws://127.0.0.1:PORT` */
  readonly url: string;
  /** Lines it printed on stderr so far. */
  readonly stderr: readonly string[];
  readonly exited: Promise<Exit>;
  /** Kills it with SIGKILL and resolves when it is gone. */
  kill(): Promise<Exit>;
}

function spawnCli(
  args: readonly string[],
  extraEnv: Record<string, string> = {},
): { child: ChildProcess; stdout: string[]; stderr: string[]; exited: Promise<Exit> } {
  // The tests' own SIGVER_* variables must not leak into the child.
  const env = {
    ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('SIGVER_'))),
    ...extraEnv,
  };
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => stdout.push(line));
  createInterface({ input: child.stderr! }).on('line', (line) => stderr.push(line));
  // 'close' comes after the output streams ended, so every line has been read by then.
  const exited = once(child, 'close').then(([code, signal]) => ({ code, signal }) as Exit);
  return { child, stdout, stderr, exited };
}

/** Starts `sigver --port 0 --host 127.0.0.1 ...args` and waits for it to listen. */
export async function spawnSigver(
  t: Cleanup,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<SigverProcess> {
  // Warnings and errors only: the cluster tests read stderr for what went wrong.
  const { child, stderr, exited } = spawnCli(
    ['--port', '0', '--host', '127.0.0.1', '--log-level', 'warn', ...args],
    env,
  );
  const kill = async (): Promise<Exit> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    return exited;
  };
  t.after(kill);
  const listening = new Promise<string>((resolve) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const match = /^sigver listening on (ws:\/\/\S+)$/.exec(line);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
  });
  const died = exited.then((exit) => {
    throw new Error(`sigver exited (${exit.code ?? exit.signal}) before listening: ${stderr.join(' | ')}`);
  });
  died.catch(() => {});
  const url = await withTimeout(Promise.race([listening, died]), 'sigver listening', 20_000);
  return { child, url, stderr, exited, kill };
}

/** Runs `sigver ...args` to its end and returns what it printed. */
export async function runSigver(
  args: readonly string[],
  ms = 20_000,
): Promise<Exit & { stdout: string[]; stderr: string[] }> {
  const { child, stdout, stderr, exited } = spawnCli(args);
  try {
    const exit = await withTimeout(exited, 'sigver to exit', ms);
    return { ...exit, stdout, stderr };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}
