// The layer rules live in eslint.config.js; this shows they bite: an import
// that crosses a layer, planted in a file of that layer, fails the lint, and
// the imports the layer may make pass.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';

const root = join(import.meta.dirname, '..', '..');
// Only the import rules are under test: no type information, so no program to build.
const eslint = new ESLint({ cwd: root, overrideConfig: tseslint.configs.disableTypeChecked });

async function importProblems(file: string, specifier: string): Promise<string[]> {
  const [result] = await eslint.lintText(`import * as planted from '${specifier}';\nexport { planted };\n`, {
    filePath: join(root, file),
  });
  return (result?.messages ?? []).map((message) => `${message.ruleId ?? 'parse'}: ${message.message}`);
}

const refused: Array<[file: string, specifier: string]> = [
  ['src/protocol/planted.ts', '../core/ports.js'],
  ['src/protocol/planted.ts', 'node:crypto'],
  ['src/core/planted.ts', '../runtime/system-clock.js'],
  ['src/core/planted.ts', '../server.js'],
  ['src/core/planted.ts', 'ws'],
  ['src/client/planted.ts', '../core/ports.js'],
  ['src/client/planted.ts', 'node:events'],
  ['src/ops/planted.ts', 'ws'],
  ['src/ops/planted.ts', '../options.js'],
  ['src/ops/planted.ts', '../transport/http-routes.js'],
  ['src/cluster/planted.ts', 'ws'],
  ['src/cluster/planted.ts', '../transport/http-routes.js'],
  ['src/runtime/planted.ts', '../cluster/redis-backplane.js'],
  ['src/runtime/planted.ts', 'ioredis'],
  ['src/transport/planted.ts', 'ioredis'],
  ['src/transport/planted.ts', '../cli/arguments.js'],
  ['src/planted.ts', './cli/main.js'],
  ['src/planted.ts', 'ioredis'],
  ['src/server/planted.ts', '../cli/main.js'],
  ['src/server/planted.ts', 'ws'],
  ['src/server/planted.ts', 'ioredis'],
  ['src/cli/planted.ts', 'ws'],
];

const allowed: Array<[file: string, specifier: string]> = [
  ['src/protocol/planted.ts', './errors.js'],
  ['src/core/planted.ts', '../protocol/index.js'],
  ['src/client/planted.ts', '../protocol/key.js'],
  ['src/transport/planted.ts', 'ws'],
  ['src/transport/planted.ts', '../core/ports.js'],
  ['src/cluster/planted.ts', 'ioredis'],
  ['src/cluster/planted.ts', '../runtime/system-clock.js'],
  ['src/runtime/planted.ts', 'node:crypto'],
  ['src/ops/planted.ts', '../core/ports.js'],
  ['src/planted.ts', './transport/websocket-gateway.js'],
  ['src/planted.ts', './server/lifecycle.js'],
  ['src/server/planted.ts', '../transport/websocket-gateway.js'],
  ['src/server/planted.ts', '../options.js'],
  ['src/cli/planted.ts', '../server.js'],
];

test('an import that crosses a layer fails the lint', async () => {
  for (const [file, specifier] of refused) {
    const problems = await importProblems(file, specifier);
    assert.ok(
      problems.some((problem) => problem.startsWith('no-restricted-imports:')),
      `${file} importing ${specifier}: ${JSON.stringify(problems)}`,
    );
  }
});

test('the imports a layer may make pass', async () => {
  for (const [file, specifier] of allowed) {
    assert.deepEqual(await importProblems(file, specifier), [], `${file} importing ${specifier}`);
  }
});

/** Problems of the naming rule (`no-restricted-syntax`) in `source`, linted as a file of src/. */
async function namingProblems(source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath: join(root, 'src/core/planted.ts') });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-syntax').map((m) => m.message);
}

test('a binding named `process` fails the lint; the property of that name does not', async () => {
  const shadowing = [
    'export function lost(process: string): string { return process; }',
    'export const lost = (process: string): string => process;',
    'export function lost(process = "a"): string { return process; }',
    'export class Lost { constructor(readonly process: string) {} }',
    'const process = "a";\nexport { process };',
    'export function lost(value: { process: string }): string { const { process } = value; return process; }',
    // A signature's parameter name is what its implementations copy.
    'export interface Lost { lost(process: string): void }',
    'export type Lost = (process: string) => void;',
  ];
  for (const source of shadowing) {
    const problems = await namingProblems(source);
    assert.ok(
      problems.some((p) => p.includes('shadows the Node global')),
      `${source}: ${JSON.stringify(problems)}`,
    );
  }
  const fine = [
    'export function lost(processId: string): { process: string } { return { process: processId }; }',
    'export function lost(value: { process: string }): string { const { process: id } = value; return id; }',
    'export const pid = process.pid;',
  ];
  for (const source of fine) assert.deepEqual(await namingProblems(source), [], source);
});
