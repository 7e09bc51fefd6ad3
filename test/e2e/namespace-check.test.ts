// A contributor without root gets one line saying why the browser tests
// cannot run, instead of a bare `unshare: Operation not permitted`.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { ROOT } from '../support/cli.js';

const NOBODY = 65_534;

const CHECK = `
const { namespaceProblem } = await import('./test/support/private-network.ts');
process.stdout.write(String(namespaceProblem()));
`;

test('without root, the namespace check says in one line what the browser tests need and why', () => {
  // Run it as an unprivileged user; as root (CI) that is what a contributor's shell looks like.
  const asNobody = process.getuid?.() === 0 ? { uid: NOBODY, gid: NOBODY } : {};
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHECK], {
    cwd: ROOT,
    encoding: 'utf8',
    ...asNobody,
  });
  assert.equal(result.status, 0, result.stderr);
  assert.match(
    result.stdout,
    /^the browser tests need root \(as on CI\): they run Chromium in a network namespace of its own so that WebRTC traffic never leaves this machine, and creating one failed \(.*Operation not permitted\)$/,
  );
});
